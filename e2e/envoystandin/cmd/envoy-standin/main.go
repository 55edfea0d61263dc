package main

import (
	"context"
	"fmt"
	"os"

	"github.com/osm-tracing/osm-tracing/e2e/envoystandin"
)

func main() {
	if err := envoystandin.Run(context.Background(), os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
