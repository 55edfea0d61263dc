package testimages

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
)

// family is one address family's addresses, as a URL's host and SO_ORIGINAL_DST's IP:PORT
// write them ([fd00::1] for IPv6).
type family struct {
	name                     string
	pod, peer, alt, loopback string
}

var (
	ipv4 = family{"IPv4", podIPv4, peerIPv4, peerAltIPv4, "127.0.0.1"}
	ipv6 = family{"IPv6", "[" + podIPv6 + "]", "[" + peerIPv6 + "]", "[" + peerAltIPv6 + "]", "[::1]"}
)

// mesh is the pod, its peer and the stand-in that the redirect sends connections to. Every
// request carries a Host of its own, which the stand-in logs with each request it relays:
// a request went through the stand-in exactly when the stand-in logged its Host.
type mesh struct {
	pod, peer *netns
	testapp   string
	standin   *proc
	requests  int
	// unseen are the requests the stand-in must not have seen, checked by settle.
	unseen []unseen
}

// unseen is a request, or a connection, that must have gone around the stand-in.
type unseen struct {
	test, field, value string
}

// get makes an HTTP GET from ns as uid, with a Host header of its own, which it returns.
func (m *mesh) get(t *testing.T, from *netns, uid int, url string) (out, host string, err error) {
	t.Helper()
	m.requests++
	host = fmt.Sprintf("request-%d.test", m.requests)
	id := strconv.Itoa(uid)
	out, err = from.run(t, "setpriv", "--reuid="+id, "--regid="+id, "--clear-groups", "--",
		m.testapp, "get", "--timeout", "5s", "-H", "Host: "+host, url)
	return out, host, err
}

// captured: a GET from ns as uid is answered through the stand-in's listener, which read
// the original destination dst; it returns the answer.
func (m *mesh) captured(t *testing.T, from *netns, uid int, url, listener, dst string) string {
	t.Helper()
	out, host, err := m.get(t, from, uid, url)
	if err != nil {
		t.Errorf("GET %s: %v\n%s", url, err, out)
	}
	m.standin.waitEvent(t, "http_request", map[string]any{"host": host, "listener": listener, "original_dst": dst, "status": float64(200)})
	return out
}

// bypassed: a GET from ns as uid is answered, and must have gone around the stand-in (which
// settle checks); it returns the answer.
func (m *mesh) bypassed(t *testing.T, from *netns, uid int, url string) string {
	t.Helper()
	out, host, err := m.get(t, from, uid, url)
	if err != nil || !strings.Contains(out, "200 OK") {
		t.Errorf("GET %s: %v\n%s", url, err, out)
	}
	m.unseen = append(m.unseen, unseen{t.Name(), "host", host})
	return out
}

// settle checks that the stand-in logged none of the requests and connections m.unseen
// lists. The stand-in logs a connection before it relays anything, but its log reaches the
// test through a pipe: a request it surely relays (inbound, which every redirect captures)
// and whose event shows up marks the point up to which everything it logged has arrived.
func (m *mesh) settle(t *testing.T) {
	t.Helper()
	_, marker, err := m.get(t, m.peer, 65532, "http://"+podIPv4+":8080/")
	if err != nil {
		t.Fatalf("the marker request: %v", err)
	}
	m.standin.waitEvent(t, "http_request", map[string]any{"host": marker, "listener": "inbound"})
	events := m.standin.events()
	for _, u := range m.unseen {
		for _, ev := range events {
			if fmt.Sprint(ev[u.field]) == u.value {
				t.Errorf("%s: the stand-in saw what should have gone around it: %v", u.test, ev)
			}
		}
	}
	m.unseen = nil
}

// checkExclusions checks every rule of exclusionSpec, in both families.
func (m *mesh) checkExclusions(t *testing.T) {
	for _, f := range []family{ipv4, ipv6} {
		t.Run(f.name, func(t *testing.T) {
			t.Run("inbound is captured", func(t *testing.T) {
				out := m.captured(t, m.peer, 65532, "http://"+f.pod+":8080/", "inbound", f.pod+":8080")
				// The app sees the stand-in's connection from the pod's own address.
				if !strings.Contains(out, `"remote_addr": "`+f.pod+":") {
					t.Errorf("the app's answer:\n%s", out)
				}
			})
			t.Run("an excluded inbound port is not", func(t *testing.T) {
				// The app sees the peer's own connection, from either of its addresses.
				out := m.bypassed(t, m.peer, 65532, "http://"+f.pod+":8081/")
				if !strings.Contains(out, `"remote_addr": "`+f.peer+":") && !strings.Contains(out, `"remote_addr": "`+f.alt+":") {
					t.Errorf("the app did not see the peer's own connection:\n%s", out)
				}
			})
			t.Run("the health port is not", func(t *testing.T) {
				if out := m.bypassed(t, m.peer, 65532, "http://"+f.pod+":15021/healthz/ready"); !strings.Contains(out, "LIVE") {
					t.Errorf("Envoy's readiness:\n%s", out)
				}
			})
			t.Run("the admin port is not", func(t *testing.T) {
				// Envoy's admin listens on 127.0.0.1: from outside, nothing answers.
				out, _, err := m.get(t, m.peer, 65532, "http://"+f.pod+":15000/ready")
				if err == nil || !strings.Contains(out, "connection refused") {
					t.Errorf("GET of the admin port from the peer: %v\n%s", err, out)
				}
				m.unseen = append(m.unseen, unseen{t.Name(), "original_dst", f.pod + ":15000"})
			})
			t.Run("outbound is captured, to the loopback address", func(t *testing.T) {
				out := m.captured(t, m.pod, 65532, "http://"+f.peer+":9090/", "outbound", f.peer+":9090")
				if !strings.Contains(out, `"remote_addr": "`+f.pod+":") {
					t.Errorf("the peer's answer:\n%s", out)
				}
				m.standin.waitEvent(t, "connection", map[string]any{"listener": "outbound", "original_dst": f.peer + ":9090", "local": f.loopback + ":15001"})
			})
			t.Run("the proxy's own connections are not", func(t *testing.T) {
				m.bypassed(t, m.pod, 1500, "http://"+f.peer+":9090/")
			})
			t.Run("loopback is not", func(t *testing.T) {
				m.bypassed(t, m.pod, 65532, "http://"+f.loopback+":8080/")
				m.bypassed(t, m.pod, 65532, "http://"+f.pod+":8080/") // the pod's own address: through lo
			})
			t.Run("an excluded outbound port is not", func(t *testing.T) {
				m.bypassed(t, m.pod, 65532, "http://"+f.peer+":9091/")
			})
			t.Run("an excluded range is not", func(t *testing.T) {
				m.bypassed(t, m.pod, 65532, "http://"+f.alt+":9090/")
			})
		})
	}
	m.settle(t)
}

// checkInclusions checks a redirect whose outbound inclusions are the alt range of
// included alone: only that range is captured outbound, and nothing of the other family.
func (m *mesh) checkInclusions(t *testing.T, included, other family) {
	t.Run(included.name+" range included", func(t *testing.T) {
		m.captured(t, m.pod, 65532, "http://"+included.alt+":9090/", "outbound", included.alt+":9090")
		m.bypassed(t, m.pod, 65532, "http://"+included.peer+":9090/")
		m.bypassed(t, m.pod, 65532, "http://"+other.alt+":9090/")
		m.bypassed(t, m.pod, 65532, "http://"+other.peer+":9090/")
		m.settle(t)
	})
}
