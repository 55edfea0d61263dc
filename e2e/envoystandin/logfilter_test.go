package envoystandin

import (
	"net/http"
	"testing"

	"github.com/osm-tracing/osm-tracing/bootstrap"
)

// TestAccessLogLeavesOutProbes reads the inbound access log filter of a generated bootstrap
// with the access log on: the kubelet's probes are left out, other requests (with another
// User-Agent, or none) are logged; the outbound log has no filter.
func TestAccessLogLeavesOutProbes(t *testing.T) {
	tr := bootstrap.Defaults("osm-system")
	tr.AccessLog = true
	for _, l := range generated(t, tr).Listeners {
		switch l.Name {
		case bootstrap.OutboundListenerName:
			if l.HTTPLog == nil || l.HTTPLogSkips != nil {
				t.Errorf("outbound: log %v, filter set %v; want a log without filter", l.HTTPLog, l.HTTPLogSkips != nil)
			}
		case bootstrap.InboundListenerName:
			if l.HTTPLog == nil || l.HTTPLogSkips == nil {
				t.Fatalf("inbound: log %v, filter set %v; want a log with a filter", l.HTTPLog, l.HTTPLogSkips != nil)
			}
			for ua, skipped := range map[string]bool{bootstrap.ProbeUserAgentPrefix + "1.37": true, "curl/8.5": false, "": false} {
				h := http.Header{}
				if ua != "" {
					h.Set("User-Agent", ua)
				}
				if got := l.HTTPLogSkips(h); got != skipped {
					t.Errorf("inbound, User-Agent %q: skipped %v, want %v", ua, got, skipped)
				}
			}
		}
	}
}
