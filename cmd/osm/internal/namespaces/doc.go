// Package namespaces opts namespaces in and out of sidecar injection with the label
// openservicemesh.io/sidecar-injection=enabled (osm namespace add|remove|list).
package namespaces
