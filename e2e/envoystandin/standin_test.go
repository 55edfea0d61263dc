package envoystandin

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/osm-tracing/osm-tracing/bootstrap"
)

func TestStandInServesTheBootstrap(t *testing.T) {
	tr := bootstrap.Defaults("osm-system")
	tr.Enable = true
	g, err := bootstrap.Generate(bootstrap.Settings{Tracing: tr, ServiceName: "bookbuyer"})
	if err != nil {
		t.Fatal(err)
	}
	h, err := NewHandler(g.YAML, time.Unix(0, 0))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	get := func(path string) (int, string) {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	code, dump := get("/config_dump")
	for _, want := range []string{
		`"@type": "type.googleapis.com/envoy.admin.v3.BootstrapConfigDump"`,
		`"name": "envoy-tracing-cluster"`,
		`"address": "jaeger.osm-system.svc.cluster.local"`,
		`"port_value": 9411`,
		`"collector_endpoint": "/api/v2/spans"`,
	} {
		if code != http.StatusOK || !strings.Contains(dump, want) {
			t.Errorf("/config_dump (%d) lacks %s", code, want)
		}
	}
	if code, body := get("/clusters"); code != http.StatusOK ||
		!strings.Contains(body, "envoy-tracing-cluster::jaeger.osm-system.svc.cluster.local:9411::health_flags::healthy") {
		t.Errorf("/clusters (%d):\n%s", code, body)
	}
	if code, body := get("/ready"); code != http.StatusOK || body != "LIVE\n" {
		t.Errorf("/ready = %d %q", code, body)
	}
	if code, _ := get("/quitquitquit"); code != http.StatusNotFound {
		t.Errorf("an unknown path answered %d", code)
	}
	if _, err := NewHandler([]byte("nope: 1"), time.Now()); err == nil {
		t.Error("NewHandler accepted a bootstrap with an unknown field")
	}
}
