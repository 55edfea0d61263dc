// Package app is the osm-injector command: flags, their validation, and Run, which wires the
// webhook server and the controllers on a controller-runtime manager.
//
// To run the injector inside a program (the end-to-end tests do), fill Options (start from
// DefaultOptions) and call Run; it returns when the context ends.
package app
