// Package kube holds the cluster plumbing the osm CLI shares between its commands: the
// clients made from the user's kubeconfig (--kubeconfig, --context), typed access to the
// MeshConfig, and port-forwarding to a pod's port through the API server.
package kube
