package bootstrap

import (
	"crypto/sha256"
	"encoding/hex"
)

// Generated is a built, validated and rendered bootstrap.
type Generated struct {
	Settings Settings
	// YAML is the envoy.config.bootstrap.v3.Bootstrap in YAML with proto field names.
	YAML []byte
	// Hash is the content hash of YAML (short, DNS-label safe).
	Hash string
}

// HashLen is the length of a bootstrap hash: lowercase hex digits.
const HashLen = 10

// Generate builds the bootstrap for s, validates it, renders it and hashes it. Equal
// settings give equal YAML and hash; settings that change the bootstrap change the hash.
func Generate(s Settings) (Generated, error) {
	b, err := Build(s)
	if err != nil {
		return Generated{}, err
	}
	y, err := Marshal(b)
	if err != nil {
		return Generated{}, err
	}
	return Generated{Settings: s, YAML: y, Hash: Hash(y)}, nil
}

// Hash is the content hash of a rendered bootstrap: the first HashLen hex digits of its
// SHA-256. It is what names the ConfigMap and labels the pod, so anyone holding the YAML (the
// CLI reading a ConfigMap, say) can check it.
func Hash(yaml []byte) string {
	sum := sha256.Sum256(yaml)
	return hex.EncodeToString(sum[:HashLen/2])
}
