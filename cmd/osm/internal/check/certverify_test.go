package check

import (
	"net"
	"strings"
	"testing"
	"time"

	"github.com/osm-tracing/osm-tracing/webhook/certs/certstest"
)

func TestVerifyServing(t *testing.T) {
	ca, other := certstest.NewCA(t, "osm-ca"), certstest.NewCA(t, "other-ca")
	now := time.Now()
	year := now.Add(300 * 24 * time.Hour)
	dns := []string{"osm-injector.osm-system.svc"}
	good := ca.Issue(t, dns, nil, year).PEM
	tests := map[string]struct {
		bundle, cert []byte
		host         string
		status       Status
		msg          string
	}{
		"the bundle verifies the certificate": {bundle: ca.PEM, cert: good, host: dns[0], status: Pass, msg: "valid until"},
		"a bundle with old and new CA":        {bundle: append(append([]byte{}, other.PEM...), ca.PEM...), cert: good, host: dns[0], status: Pass},
		"an empty bundle":                     {cert: good, host: dns[0], status: Fail, msg: "caBundle is empty"},
		"a bundle of garbage":                 {bundle: []byte("nope"), cert: good, host: dns[0], status: Fail, msg: "no PEM certificate"},
		"another CA's bundle":                 {bundle: other.PEM, cert: good, host: dns[0], status: Fail, msg: "does not verify"},
		"the wrong host":                      {bundle: ca.PEM, cert: good, host: "osm-injector.other.svc", status: Fail, msg: "does not verify"},
		"an IP of an outside injector": {
			bundle: ca.PEM, cert: ca.Issue(t, nil, []net.IP{net.ParseIP("127.0.0.1")}, year).PEM, host: "127.0.0.1", status: Pass,
		},
		"a certificate expiring soon": {
			bundle: ca.PEM, cert: ca.Issue(t, dns, nil, now.Add(48*time.Hour)).PEM, host: dns[0], status: Warn, msg: "expires in",
		},
		"an expired certificate": {
			bundle: ca.PEM, cert: ca.Issue(t, dns, nil, now.Add(-time.Minute)).PEM, host: dns[0], status: Fail, msg: "expired",
		},
		"no serving certificate": {bundle: ca.PEM, host: dns[0], status: Fail, msg: "does not parse"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			status, msg := VerifyServing(tc.bundle, tc.cert, tc.host, now)
			if status != tc.status || !strings.Contains(msg, tc.msg) {
				t.Errorf("VerifyServing = %v %q; want %v with %q", status, msg, tc.status, tc.msg)
			}
		})
	}
}
