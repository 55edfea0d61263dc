//go:build !linux

package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "launcher: Linux only: it programs mount namespaces and capabilities")
	os.Exit(125)
}
