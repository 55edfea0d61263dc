package bootstrap

import (
	"crypto/sha256"
	"encoding/hex"
)

// Generated is a built, validated and rendered bootstrap, in its two renderings.
type Generated struct {
	Settings Settings
	// YAML is the envoy.config.bootstrap.v3.Bootstrap in YAML with proto field names: the
	// dual-stack rendering, whose listeners bind 0.0.0.0 and [::]. The ConfigMap holds it
	// under BootstrapKey.
	YAML []byte
	// IPv4YAML is YAML without the listeners' [::] additional addresses, and byte for byte
	// the same otherwise: for nodes whose kernel has no IPv6 (booted with ipv6.disable=1),
	// where binding [::] fails, and Envoy fails to start on a listener address it cannot bind
	// (not run here: no Envoy and no such node on the test machines; the IPv4 rendering is
	// checked to differ only by those addresses). The ConfigMap holds it under BootstrapIPv4Key.
	// Which node a pod lands on is unknown at admission, so both go to every pod; osm-init,
	// which runs on the node before Envoy, points Envoy at the one the kernel can serve.
	IPv4YAML []byte
	// Hash is the content hash of YAML (short, DNS-label safe). It names IPv4YAML too:
	// IPv4YAML is YAML less its additional_addresses entries, a function of YAML's bytes
	// (TestIPv4RenderingIsDualStackLessIPv6), so equal YAML means equal IPv4YAML and the
	// ConfigMap named by Hash holds one pair only.
	Hash string
}

// HashLen is the length of a bootstrap hash: lowercase hex digits.
const HashLen = 10

// Generate builds the bootstrap for s, validates it, renders it (dual-stack and IPv4-only)
// and hashes it. Equal settings give equal YAML and hash; settings that change the bootstrap
// change the hash.
func Generate(s Settings) (Generated, error) {
	b, err := Build(s)
	if err != nil {
		return Generated{}, err
	}
	y, y4, err := marshalRenderings(b)
	if err != nil {
		return Generated{}, err
	}
	return Generated{Settings: s, YAML: y, IPv4YAML: y4, Hash: Hash(y)}, nil
}

// Hash is the content hash of a rendered bootstrap: the first HashLen hex digits of its
// SHA-256. It is what names the ConfigMap and labels the pod, so anyone holding the YAML (the
// CLI reading a ConfigMap, say) can check it.
func Hash(yaml []byte) string {
	sum := sha256.Sum256(yaml)
	return hex.EncodeToString(sum[:HashLen/2])
}
