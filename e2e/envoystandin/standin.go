package envoystandin

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	adminv3 "github.com/envoyproxy/go-control-plane/envoy/admin/v3"
	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/osm-tracing/osm-tracing/bootstrap"
)

// Handler serves the stand-in's admin paths for one bootstrap.
type Handler struct {
	configDump []byte
	clusters   []byte
}

// NewHandler parses bootstrapYAML (strictly, with bootstrap.Parse) and prepares the answers.
func NewHandler(bootstrapYAML []byte, loaded time.Time) (*Handler, error) {
	b, err := bootstrap.Parse(bootstrapYAML)
	if err != nil {
		return nil, fmt.Errorf("envoy stand-in: %w", err)
	}
	dump, err := ConfigDump(b, loaded)
	if err != nil {
		return nil, err
	}
	return &Handler{configDump: dump, clusters: Clusters(b)}, nil
}

// ConfigDump renders b as Envoy's /config_dump does: {"configs": [BootstrapConfigDump]}, JSON
// with proto field names, indented.
func ConfigDump(b *bootstrapv3.Bootstrap, loaded time.Time) ([]byte, error) {
	inner, err := anypb.New(&adminv3.BootstrapConfigDump{Bootstrap: b, LastUpdated: timestamppb.New(loaded)})
	if err != nil {
		return nil, fmt.Errorf("envoy stand-in: when wrapping the bootstrap: %w", err)
	}
	raw, err := protojson.MarshalOptions{UseProtoNames: true}.Marshal(&adminv3.ConfigDump{Configs: []*anypb.Any{inner}})
	if err != nil {
		return nil, fmt.Errorf("envoy stand-in: when rendering the config dump: %w", err)
	}
	// protojson's whitespace is deliberately unstable; re-indent for a stable, Envoy-like layout.
	var out bytes.Buffer
	if err := json.Indent(&out, raw, "", " "); err != nil {
		return nil, fmt.Errorf("envoy stand-in: when indenting the config dump: %w", err)
	}
	out.WriteByte('\n')
	return out.Bytes(), nil
}

// Clusters renders the static clusters as Envoy's /clusters text does, one fact per line.
func Clusters(b *bootstrapv3.Bootstrap) []byte {
	var out strings.Builder
	for _, c := range b.GetStaticResources().GetClusters() {
		fmt.Fprintf(&out, "%s::observability_name::%s\n", c.GetName(), c.GetName())
		for _, e := range c.GetLoadAssignment().GetEndpoints() {
			for _, lb := range e.GetLbEndpoints() {
				sa := lb.GetEndpoint().GetAddress().GetSocketAddress()
				if sa == nil {
					continue
				}
				host := net.JoinHostPort(sa.GetAddress(), fmt.Sprint(sa.GetPortValue()))
				fmt.Fprintf(&out, "%s::%s::health_flags::healthy\n", c.GetName(), host)
			}
		}
	}
	return []byte(out.String())
}

// ServeHTTP answers /config_dump, /clusters and /ready; anything else is a 404 as Envoy's
// admin answers an unknown path.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		http.Error(w, "envoy stand-in: only GET is served", http.StatusMethodNotAllowed)
		return
	}
	switch r.URL.Path {
	case "/config_dump":
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(h.configDump)
	case "/clusters":
		w.Header().Set("Content-Type", "text/plain")
		_, _ = w.Write(h.clusters)
	case "/ready":
		w.Header().Set("Content-Type", "text/plain")
		_, _ = w.Write([]byte("LIVE\n"))
	default:
		http.Error(w, "invalid path. this Envoy admin stand-in serves /config_dump, /clusters and /ready", http.StatusNotFound)
	}
}

// Server is a stand-in listening on a free port of 127.0.0.1.
type Server struct {
	// Addr is 127.0.0.1:PORT.
	Addr string
	// Port is the listening port (what a kwok PortForward targets).
	Port int
	srv  *http.Server
}

// Start serves h on a free port of 127.0.0.1 until Close.
func Start(h http.Handler) (*Server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("envoy stand-in: when listening: %w", err)
	}
	s := &Server{Addr: ln.Addr().String(), Port: ln.Addr().(*net.TCPAddr).Port,
		srv: &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}}
	go func() { _ = s.srv.Serve(ln) }()
	return s, nil
}

// Close stops the server.
func (s *Server) Close() error {
	return s.srv.Close()
}
