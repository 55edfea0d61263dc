package bootstrap

import (
	"bytes"
	"fmt"
	"testing"

	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"
)

// dualStackRule is the rule the IPv4-only rendering breaks on purpose.
const dualStackRule = "every listener but admin binds 0.0.0.0 and [::]"

// checkIPv4Rendering: ipv4 is dual without the listeners' additional addresses, which are all
// [::], and nothing else differs, in bytes (it is what Marshal renders for that message, so
// a function of dual's bytes) and in meaning.
func checkIPv4Rendering(dual, ipv4 []byte) error {
	d, err := Parse(dual)
	if err != nil {
		return err
	}
	v4, err := Parse(ipv4)
	if err != nil {
		return fmt.Errorf("the IPv4-only rendering: %w", err)
	}
	want := proto.Clone(d).(*bootstrapv3.Bootstrap)
	for _, l := range want.GetStaticResources().GetListeners() {
		for _, a := range l.GetAdditionalAddresses() {
			if sa := a.GetAddress().GetSocketAddress(); sa.GetAddress() != anyIPv6 {
				return fmt.Errorf("listener %s: additional address %v is not [::]: the IPv4-only rendering would lose more than IPv6", l.GetName(), sa)
			}
		}
		l.AdditionalAddresses = nil
	}
	if diff := cmp.Diff(want, v4, protocmp.Transform()); diff != "" {
		return fmt.Errorf("the IPv4-only rendering differs from the dual-stack one by more than its [::] addresses (-want +got):\n%s", diff)
	}
	y, err := Marshal(want)
	if err != nil {
		return err
	}
	if !bytes.Equal(y, ipv4) {
		return fmt.Errorf("the IPv4-only rendering is not what Marshal renders without the [::] addresses:\n%s", cmp.Diff(string(y), string(ipv4)))
	}
	for _, l := range v4.GetStaticResources().GetListeners() {
		if sa := l.GetAddress().GetSocketAddress(); sa.GetAddress() != anyIPv4 || len(l.GetAdditionalAddresses()) > 0 {
			return fmt.Errorf("the IPv4-only listener %s binds %v and %d more addresses", l.GetName(), sa, len(l.GetAdditionalAddresses()))
		}
	}
	return nil
}

// TestIPv4RenderingIsDualStackLessIPv6: for every demo bootstrap, the IPv4-only rendering is
// the dual-stack one without its [::] addresses, byte for byte otherwise, and every rule but
// the dual-stack one holds on it too. Its bytes being Marshal's of the dual-stack message less
// one field is what lets Hash (of the dual-stack YAML) name both.
func TestIPv4RenderingIsDualStackLessIPv6(t *testing.T) {
	for name, s := range demoCases() {
		t.Run(name, func(t *testing.T) {
			g := mustGenerate(t, s)
			if err := checkIPv4Rendering(g.YAML, g.IPv4YAML); err != nil {
				t.Fatal(err)
			}
			if g.Hash != Hash(g.YAML) {
				t.Errorf("hash %s is not the dual-stack YAML's %s", g.Hash, Hash(g.YAML))
			}
			v4 := mustParse(t, g.IPv4YAML)
			for _, r := range rules {
				err := r.check(v4, s)
				switch {
				case r.name == dualStackRule && err == nil:
					t.Errorf("the IPv4-only rendering passes rule %q", r.name)
				case r.name != dualStackRule && err != nil:
					t.Errorf("the IPv4-only rendering breaks rule %q (%s): %v", r.name, r.doc, err)
				}
			}
		})
	}
}

// TestIPv4RenderingCheckCatchesMutations: checkIPv4Rendering fails when the IPv4-only
// rendering differs in anything but the [::] addresses, or keeps one.
func TestIPv4RenderingCheckCatchesMutations(t *testing.T) {
	g := mustGenerate(t, demoCases()["bookbuyer"])
	for what, mutate := range map[string]func(b *bootstrapv3.Bootstrap){
		"it keeps the inbound [::]": func(b *bootstrapv3.Bootstrap) {
			mustListener(t, b, InboundListenerName).AdditionalAddresses = dualStack(InboundPort)
		},
		"it loses the inbound keepalive": func(b *bootstrapv3.Bootstrap) {
			mustListener(t, b, InboundListenerName).TcpKeepalive = nil
		},
		"health binds loopback": func(b *bootstrapv3.Bootstrap) {
			mustListener(t, b, HealthListenerName).Address = socketAddress(AdminAddress, HealthPort)
		},
		"a cluster is gone": func(b *bootstrapv3.Bootstrap) {
			b.StaticResources.Clusters = b.StaticResources.Clusters[1:]
		},
	} {
		t.Run(what, func(t *testing.T) {
			b := mustParse(t, g.IPv4YAML)
			mutate(b)
			y, err := Marshal(b)
			if err != nil {
				t.Fatal(err)
			}
			if err := checkIPv4Rendering(g.YAML, y); err == nil {
				t.Errorf("the check passes an IPv4-only rendering where %s", what)
			}
		})
	}
	t.Run("the same message, other bytes", func(t *testing.T) {
		quoted := bytes.ReplaceAll(g.IPv4YAML, []byte(`"0.0.0.0"`), []byte(`'0.0.0.0'`))
		if bytes.Equal(quoted, g.IPv4YAML) || !proto.Equal(mustParse(t, quoted), mustParse(t, g.IPv4YAML)) {
			t.Fatal("the test's edit does not keep the message and change the bytes")
		}
		if err := checkIPv4Rendering(g.YAML, quoted); err == nil {
			t.Error("the check passes a rendering that differs in its bytes only")
		}
	})
	t.Run("the dual-stack rendering has another IPv6 address", func(t *testing.T) {
		b := mustParse(t, g.YAML)
		mustListener(t, b, OutboundListenerName).AdditionalAddresses[0].Address = socketAddress("fd00::1", OutboundPort)
		y, err := Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		if err := checkIPv4Rendering(y, g.IPv4YAML); err == nil {
			t.Error("the check lets the IPv4-only rendering drop an address that is not [::]")
		}
	})
}
