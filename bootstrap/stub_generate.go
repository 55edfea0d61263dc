package bootstrap

// STUB: helper "core-envoy" replaces this file with the real generator (and deletes this file).

import (
	"errors"

	corev1 "k8s.io/api/core/v1"
)

// Generated is a built, validated and rendered bootstrap.
type Generated struct {
	Settings Settings
	// YAML is the envoy.config.bootstrap.v3.Bootstrap in YAML with proto field names.
	YAML []byte
	// Hash is the content hash of YAML (short, DNS-label safe).
	Hash string
}

// Generate builds the bootstrap for s, validates it, renders it and hashes it.
func Generate(s Settings) (Generated, error) { return Generated{}, errors.New("not implemented") }

// ConfigMapName is envoy-bootstrap-<service>-<hash>, shortened to fit a DNS subdomain.
func ConfigMapName(service, hash string) string { return ConfigMapPrefix + service + "-" + hash }

// ConfigMap returns the immutable, labelled ConfigMap that carries g in namespace ns.
func ConfigMap(ns string, g Generated) *corev1.ConfigMap { return nil }
