//go:build !linux

package testimages

// launchIfAsked launches nothing: the launcher programs Linux namespaces and capabilities.
func launchIfAsked() {}
