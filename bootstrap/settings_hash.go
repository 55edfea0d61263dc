package bootstrap

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
)

// SettingsHashKey is the pod label the webhook sets at injection beside BootstrapHashKey: the
// SettingsHash of the settings the pod's bootstrap was generated from. The bootstrap hash
// changes when the rendering changes (a new osm-injector version renders the same settings
// differently); the settings hash changes only when the settings do, so the re-bootstrap
// controller can tell a user's change (roll) from an upgrade (report as outdated). Pods
// admitted by an injector older than this label lack it.
const SettingsHashKey = AnnotationPrefix + "settings-hash"

// settingsEncoding versions the canonical encoding of SettingsHash: change it whenever the
// encoding of an existing field changes (adding a field changes the hash anyway).
const settingsEncoding = "osm-tracing.settings/v1"

// SettingsHash is a short content hash of s (HashLen lowercase hex digits, a valid label
// value), from a canonical encoding written field by field: equal settings give equal hashes
// in every version of the injector that encodes the same fields the same way, whatever
// bootstrap it renders from them. Every field of Settings and Tracing is covered
// (settings_hash_test.go fails when a field is added without being encoded here).
func SettingsHash(s Settings) string {
	var b strings.Builder
	field := func(name, value string) {
		b.WriteString(name)
		b.WriteByte('=')
		b.WriteString(value)
		b.WriteByte('\n')
	}
	field("encoding", settingsEncoding)
	field("tracing.enable", strconv.FormatBool(s.Tracing.Enable))
	field("tracing.address", strconv.Quote(s.Tracing.Address))
	field("tracing.port", strconv.FormatUint(uint64(s.Tracing.Port), 10))
	field("tracing.endpoint", strconv.Quote(s.Tracing.Endpoint))
	field("tracing.sampling", strconv.FormatFloat(s.Tracing.Sampling, 'g', -1, 64))
	field("tracing.protocol", strconv.Quote(s.Tracing.Protocol))
	field("tracing.propagation", strconv.Quote(s.Tracing.Propagation))
	field("tracing.tags", strconv.Quote(s.Tracing.Tags))
	field("tracing.maxPathTagLength", strconv.FormatUint(uint64(s.Tracing.MaxPathTagLength), 10))
	field("serviceName", strconv.Quote(s.ServiceName))
	field("workload.kind", strconv.Quote(s.Workload.Kind))
	field("workload.name", strconv.Quote(s.Workload.Name))
	field("serverFirstPorts", strconv.Quote(s.ServerFirstPorts))
	// Fields added after the first release are encoded only when they differ from their
	// zero value, the behaviour before they existed: the settings of a pod that does not use
	// them keep their hash, so an upgrade that adds a field marks such pods outdated (a new
	// rendering of the same settings) instead of rolling them as changed.
	optional := func(name, value string) {
		if value != "" {
			field(name, strconv.Quote(value))
		}
	}
	optional("tracing.inboundSpanName", s.Tracing.InboundSpanName)
	optional("tracing.outboundSpanName", s.Tracing.OutboundSpanName)
	if s.Tracing.AccessLog {
		field("tracing.accessLog", "true")
	}
	sum := sha256.Sum256([]byte(b.String()))
	return hex.EncodeToString(sum[:HashLen/2])
}
