package bootstrap

import (
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// maxNameLen keeps ConfigMap names within a DNS-1123 label, although a ConfigMap's name may
// be a 253-byte subdomain: short names read well in kubectl and fit anywhere a label does.
const maxNameLen = 63

// ConfigMapName is envoy-bootstrap-<service>-<hash>, a valid DNS-1123 label of at most 63
// bytes. The service part is lowercased, every byte other than [a-z0-9-] becomes '-', and it
// is shortened as needed; the hash is kept whole, so two bootstraps never share a name (the
// service name is part of the hashed content).
func ConfigMapName(service, hash string) string {
	hash = nameSafe(hash)
	if room := maxNameLen - len(ConfigMapPrefix) - 1; len(hash) > room {
		hash = strings.Trim(hash[:room], "-")
	}
	svc := nameSafe(service)
	if room := maxNameLen - len(ConfigMapPrefix) - 1 - len(hash); len(svc) > room {
		svc = strings.Trim(svc[:room], "-")
	}
	switch {
	case svc == "" && hash == "":
		return strings.TrimSuffix(ConfigMapPrefix, "-")
	case svc == "":
		return ConfigMapPrefix + hash
	case hash == "":
		return ConfigMapPrefix + svc
	}
	return ConfigMapPrefix + svc + "-" + hash
}

// nameSafe maps s onto [a-z0-9-], without leading or trailing '-'.
func nameSafe(s string) string {
	b := []byte(strings.ToLower(s))
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
			b[i] = '-'
		}
	}
	return strings.Trim(string(b), "-")
}

// ConfigMap returns the immutable, labelled ConfigMap that carries g in namespace ns: named by
// ConfigMapName, BootstrapKey holding g.YAML and BootstrapIPv4Key g.IPv4YAML, labelled as
// managed by the injector and with the bootstrap hash. A g without IPv4YAML (not made by
// Generate) gets no BootstrapIPv4Key rather than an empty one: a missing file is a clearer
// failure than an empty bootstrap.
//
// The name's hash is of g.YAML alone, which determines g.IPv4YAML (see Generated.Hash).
// ConfigMaps of older injectors lack the second key; none shares a name with one that has it,
// because the release that added the key changed the dual-stack bytes too.
func ConfigMap(ns string, g Generated) *corev1.ConfigMap {
	immutable := true
	data := map[string]string{BootstrapKey: string(g.YAML)}
	if len(g.IPv4YAML) > 0 {
		data[BootstrapIPv4Key] = string(g.IPv4YAML)
	}
	return &corev1.ConfigMap{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
		ObjectMeta: metav1.ObjectMeta{
			Name:      ConfigMapName(g.Settings.ServiceName, g.Hash),
			Namespace: ns,
			Labels: map[string]string{
				ManagedByLabel:   ManagedByValue,
				BootstrapHashKey: g.Hash,
			},
		},
		Immutable: &immutable,
		Data:      data,
	}
}
