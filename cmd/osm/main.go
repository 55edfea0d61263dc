// Command osm is the command-line tool of osm-tracing: install the mesh, add namespaces to it,
// inject manifests, read proxies' configuration and check tracing.
package main

import "os"

func main() {
	os.Exit(execute(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
