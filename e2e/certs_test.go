package e2e

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-logr/logr/testr"
	admissionv1 "k8s.io/api/admission/v1"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/osm-tracing/osm-tracing/e2e/framework"
	"github.com/osm-tracing/osm-tracing/webhook/certs"
)

// TestWebhookCertificates runs two SelfSigned providers, as two osm-injector replicas do,
// against a real API server, each behind its own HTTPS server on loopback. While the
// certificates rotate (a 20 s serving certificate; a 45 s CA), a TLS client keeps connecting
// to both replicas, and the API server keeps calling one of them as a mutating webhook for
// ConfigMap creations: not one handshake and not one admission may fail.
func TestWebhookCertificates(t *testing.T) {
	c := framework.Start(t, framework.Options{})
	t.Run("serving certificate rotation keeps the CA bundle", func(t *testing.T) {
		t.Parallel()
		certsServingRotation(t, c)
	})
	t.Run("CA rotation publishes the new CA before using it", func(t *testing.T) {
		t.Parallel()
		certsCARotation(t, c)
	})
}

// certsServingRotation: with the bundle the replicas first published, and never updated,
// clients keep trusting every replica through two serving-certificate rotations.
func certsServingRotation(t *testing.T, c *framework.Cluster) {
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	ns := "certs-serving"
	certsNamespace(ctx, t, c, ns)
	replicas := certsStartReplicas(ctx, t, c, certs.Options{Namespace: ns, CertValidity: 20 * time.Second}, 2)
	bundle := replicas[0].p.CABundle()
	trust := newCertsTrust(bundle)
	certsRegisterWebhook(ctx, t, c, ns, replicas[0], bundle)

	probe := certsProbe(ctx, t, c, ns, replicas, trust, func(p *certsProbeState) bool {
		// Two rotations seen on each replica.
		return len(p.serials(0)) >= 3 && len(p.serials(1)) >= 3
	})
	probe.check(t)
	for i, r := range replicas {
		if !bytes.Equal(r.p.CABundle(), bundle) {
			t.Errorf("replica %d: the CA bundle changed on a serving certificate rotation", i)
		}
	}
	if got := certsSecret(ctx, t, c, ns).Data[certs.KeyCABundle]; !bytes.Equal(got, bundle) {
		t.Error("the Secret's CA bundle changed on a serving certificate rotation")
	}
}

// certsCARotation: the client and the webhook configuration follow the published bundle
// with a lag (as the leader's configuration sync and the API server's informer have), and
// still no handshake fails while the CA is replaced.
func certsCARotation(t *testing.T, c *framework.Cluster) {
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	ns := "certs-ca"
	certsNamespace(ctx, t, c, ns)
	opts := certs.Options{
		Namespace: ns, CAValidity: 45 * time.Second, CertValidity: 15 * time.Second,
		BundlePropagation: 4 * time.Second,
	}
	replicas := certsStartReplicas(ctx, t, c, opts, 2)
	first := replicas[0].p.CABundle()
	trust := newCertsTrust(first)
	hook := certsRegisterWebhook(ctx, t, c, ns, replicas[0], first)

	// What the leader's configuration sync does, one second late: on every bundle change,
	// rewrite the webhook configuration (and the client's trust).
	var sizes []int
	var sizesMu sync.Mutex
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-replicas[0].p.Changed():
			}
			time.Sleep(time.Second)
			bundle := replicas[0].p.CABundle()
			trust.set(bundle)
			sizesMu.Lock()
			sizes = append(sizes, certsCount(bundle))
			sizesMu.Unlock()
			hook.setCABundle(ctx, t, bundle)
		}
	}()
	probe := certsProbe(ctx, t, c, ns, replicas, trust, func(*certsProbeState) bool {
		b := replicas[0].p.CABundle()
		// Done once the bundle is back to one CA, and it is not the first one.
		return certsCount(b) == 1 && !bytes.Equal(b, first) && bytes.Equal(replicas[1].p.CABundle(), b)
	})
	probe.check(t)
	sizesMu.Lock()
	defer sizesMu.Unlock()
	if !slices.Contains(sizes, 2) {
		t.Errorf("the bundle never held two CAs during the rotation: sizes %v", sizes)
	}
	final := certsParse(t, replicas[0].p.CABundle())[0]
	for i, r := range replicas {
		if err := r.p.ServingCertificate().CheckSignatureFrom(final); err != nil {
			t.Errorf("replica %d serves a certificate not signed by the new CA: %v", i, err)
		}
	}
}

// certsReplica is one provider with the HTTPS server that serves its certificate.
type certsReplica struct {
	p     *certs.SelfSigned
	addr  string       // 127.0.0.1:PORT
	calls atomic.Int64 // admission requests answered
}

// certsStartReplicas starts n providers at once (each with its own client, as separate
// processes have) and their servers, and waits until all serve one certificate.
func certsStartReplicas(ctx context.Context, t *testing.T, c *framework.Cluster, opts certs.Options, n int) []*certsReplica {
	t.Helper()
	opts.IPAddresses = []net.IP{net.IPv4(127, 0, 0, 1)}
	pctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	t.Cleanup(func() {
		cancel()
		wg.Wait()
	})
	replicas := make([]*certsReplica, 0, n)
	for i := range n {
		cs, err := kubernetes.NewForConfig(rest.CopyConfig(c.RESTConfig))
		if err != nil {
			t.Fatal(err)
		}
		p, err := certs.NewSelfSigned(cs, opts)
		if err != nil {
			t.Fatalf("NewSelfSigned: %v", err)
		}
		p.WithLogger(testr.New(t).WithName("replica-" + strconv.Itoa(i)))
		r := &certsReplica{p: p}
		r.addr = certsServe(t, r)
		replicas = append(replicas, r)
		wg.Go(func() {
			if err := p.Start(pctx); err != nil {
				t.Errorf("replica %d: Start: %v", i, err)
			}
		})
	}
	certsEventually(ctx, t, "every replica to serve the same certificate", func() error {
		var serial string
		for i, r := range replicas {
			if err := r.p.Ready(); err != nil {
				return fmt.Errorf("replica %d: %w", i, err)
			}
			s := r.p.ServingCertificate().SerialNumber.String()
			if i > 0 && s != serial {
				return fmt.Errorf("replica %d serves serial %s, replica 0 %s", i, s, serial)
			}
			serial = s
		}
		return nil
	})
	return replicas
}

// certsServe runs an HTTPS server on 127.0.0.1 whose certificate is the replica's
// GetCertificate; /mutate allows every admission request.
func certsServe(t *testing.T, r *certsReplica) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/mutate", func(w http.ResponseWriter, req *http.Request) {
		var review admissionv1.AdmissionReview
		if err := json.NewDecoder(req.Body).Decode(&review); err != nil || review.Request == nil {
			http.Error(w, "bad AdmissionReview", http.StatusBadRequest)
			return
		}
		r.calls.Add(1)
		review.Response = &admissionv1.AdmissionResponse{UID: review.Request.UID, Allowed: true}
		review.Request = nil
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(&review)
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok") })
	srv := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 5 * time.Second,
		TLSConfig:         &tls.Config{GetCertificate: r.p.GetCertificate, MinVersion: tls.VersionTLS12},
	}
	go func() { _ = srv.ServeTLS(l, "", "") }()
	t.Cleanup(func() { _ = srv.Close() })
	return l.Addr().String()
}

// certsTrust is the CA bundle a client currently trusts.
type certsTrust struct {
	mu   sync.Mutex
	pool *x509.CertPool
}

func newCertsTrust(bundle []byte) *certsTrust {
	tr := &certsTrust{}
	tr.set(bundle)
	return tr
}

func (tr *certsTrust) set(bundle []byte) {
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(bundle)
	tr.mu.Lock()
	defer tr.mu.Unlock()
	tr.pool = pool
}

func (tr *certsTrust) get() *x509.CertPool {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return tr.pool
}

// certsWebhook is a MutatingWebhookConfiguration that sends the namespace's ConfigMap
// creations to a replica.
type certsWebhook struct {
	name string
	cs   kubernetes.Interface
}

// certsRegisterWebhook makes the API server call the replica for every ConfigMap created in
// ns, with failurePolicy Fail, and waits until it does.
func certsRegisterWebhook(ctx context.Context, t *testing.T, c *framework.Cluster, ns string, r *certsReplica,
	bundle []byte,
) *certsWebhook {
	t.Helper()
	url := "https://" + r.addr + "/mutate"
	fail := admissionregistrationv1.Fail
	none := admissionregistrationv1.SideEffectClassNone
	timeout := int32(5)
	cfg := &admissionregistrationv1.MutatingWebhookConfiguration{
		ObjectMeta: metav1.ObjectMeta{Name: "certs-e2e-" + ns},
		Webhooks: []admissionregistrationv1.MutatingWebhook{{
			Name:                    "configmaps.certs-e2e.osm-tracing.test",
			ClientConfig:            admissionregistrationv1.WebhookClientConfig{URL: &url, CABundle: bundle},
			AdmissionReviewVersions: []string{"v1"},
			SideEffects:             &none,
			FailurePolicy:           &fail,
			TimeoutSeconds:          &timeout,
			NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{
				corev1.LabelMetadataName: ns,
			}},
			Rules: []admissionregistrationv1.RuleWithOperations{{
				Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Create},
				Rule: admissionregistrationv1.Rule{
					APIGroups: []string{""}, APIVersions: []string{"v1"}, Resources: []string{"configmaps"},
				},
			}},
		}},
	}
	hooks := c.Clientset.AdmissionregistrationV1().MutatingWebhookConfigurations()
	if _, err := hooks.Create(ctx, cfg, metav1.CreateOptions{}); err != nil {
		t.Fatalf("creating the webhook configuration: %v", err)
	}
	t.Cleanup(func() {
		_ = hooks.Delete(context.Background(), cfg.Name, metav1.DeleteOptions{})
	})
	certsEventually(ctx, t, "the API server to call the webhook", func() error {
		before := r.calls.Load()
		if err := certsCreateConfigMap(ctx, c, ns); err != nil {
			return err
		}
		if r.calls.Load() == before {
			return errors.New("the ConfigMap was admitted without calling the webhook")
		}
		return nil
	})
	return &certsWebhook{name: cfg.Name, cs: c.Clientset}
}

// setCABundle rewrites the configuration's caBundle.
func (h *certsWebhook) setCABundle(ctx context.Context, t *testing.T, bundle []byte) {
	patch, err := json.Marshal([]map[string]any{{"op": "replace", "path": "/webhooks/0/clientConfig/caBundle", "value": bundle}})
	if err != nil {
		t.Errorf("encoding the caBundle patch: %v", err)
		return
	}
	_, err = h.cs.AdmissionregistrationV1().MutatingWebhookConfigurations().Patch(ctx, h.name,
		types.JSONPatchType, patch, metav1.PatchOptions{})
	if err != nil && ctx.Err() == nil {
		t.Errorf("updating the caBundle: %v", err)
	}
}

func certsCreateConfigMap(ctx context.Context, c *framework.Cluster, ns string) error {
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{GenerateName: "probe-", Namespace: ns}}
	_, err := c.Clientset.CoreV1().ConfigMaps(ns).Create(ctx, cm, metav1.CreateOptions{})
	return err
}

// certsProbeState counts what the probe saw.
type certsProbeState struct {
	mu         sync.Mutex
	handshakes int
	admissions int
	failures   []string
	seen       [][]string // per replica, distinct serials in order of appearance
}

func (p *certsProbeState) serials(i int) []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.seen[i])
}

func (p *certsProbeState) fail(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.failures = append(p.failures, fmt.Sprintf(format, args...))
}

func (p *certsProbeState) check(t *testing.T) {
	t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	t.Logf("%d handshakes, %d admissions; serials per replica: %v", p.handshakes, p.admissions, p.seen)
	if len(p.failures) > 0 {
		t.Errorf("%d failures, first: %v", len(p.failures), p.failures[:min(len(p.failures), 5)])
	}
	for i, s := range p.seen {
		if len(s) < 2 {
			t.Errorf("replica %d: the served certificate never changed (%v)", i, s)
		}
	}
	if p.handshakes < 50 || p.admissions < 10 {
		t.Errorf("too few probes: %d handshakes, %d admissions", p.handshakes, p.admissions)
	}
}

// certsProbe connects to every replica in turn, each time with a new TLS connection that
// must verify against trust (by IP and by the Service's DNS name), and creates ConfigMaps
// through the webhook, until done reports true; it fails the test if ctx ends first.
func certsProbe(ctx context.Context, t *testing.T, c *framework.Cluster, ns string, replicas []*certsReplica,
	trust *certsTrust, done func(*certsProbeState) bool,
) *certsProbeState {
	t.Helper()
	p := &certsProbeState{seen: make([][]string, len(replicas))}
	pctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() {
		for pctx.Err() == nil {
			err := certsCreateConfigMap(pctx, c, ns)
			if pctx.Err() != nil {
				return
			}
			if err != nil {
				p.fail("admission: %v", err)
			}
			p.mu.Lock()
			p.admissions++
			p.mu.Unlock()
			time.Sleep(100 * time.Millisecond)
		}
	})
	names := []string{"127.0.0.1", certs.ServiceDNSNames(certs.DefaultServiceName, ns)[0]}
	for i := 0; ; i++ {
		if done(p) {
			break
		}
		if ctx.Err() != nil {
			cancel()
			wg.Wait()
			p.check(t)
			t.Fatalf("timed out before the rotation completed")
		}
		ri := i % len(replicas)
		serial, err := certsHandshake(ctx, replicas[ri].addr, names[(i/len(replicas))%len(names)], trust.get())
		if ctx.Err() != nil {
			continue
		}
		p.mu.Lock()
		p.handshakes++
		if err == nil && !slices.Contains(p.seen[ri], serial) {
			p.seen[ri] = append(p.seen[ri], serial)
		}
		p.mu.Unlock()
		if err != nil {
			p.fail("replica %d: %v", ri, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	wg.Wait()
	return p
}

// certsHandshake makes one HTTPS request on a new connection to addr, verifying the server
// as serverName against roots, and returns the serial of the certificate served.
func certsHandshake(ctx context.Context, addr, serverName string, roots *x509.CertPool) (string, error) {
	dialer := &net.Dialer{Timeout: 5 * time.Second}
	transport := &http.Transport{
		Proxy:             nil,
		DisableKeepAlives: true,
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return dialer.DialContext(ctx, network, addr)
		},
		TLSClientConfig: &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12},
	}
	defer transport.CloseIdleConnections()
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "https://"+net.JoinHostPort(serverName, port)+"/", nil)
	if err != nil {
		return "", err
	}
	resp, err := (&http.Client{Transport: transport, Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		return "", fmt.Errorf("as %s: %w", serverName, err)
	}
	defer func() { _ = resp.Body.Close() }()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return "", err
	}
	if resp.TLS == nil || len(resp.TLS.PeerCertificates) == 0 {
		return "", errors.New("no peer certificate")
	}
	return resp.TLS.PeerCertificates[0].SerialNumber.String(), nil
}

func certsNamespace(ctx context.Context, t *testing.T, c *framework.Cluster, ns string) {
	t.Helper()
	obj := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}
	if _, err := c.Clientset.CoreV1().Namespaces().Create(ctx, obj, metav1.CreateOptions{}); err != nil {
		t.Fatalf("creating namespace %s: %v", ns, err)
	}
}

func certsSecret(ctx context.Context, t *testing.T, c *framework.Cluster, ns string) *corev1.Secret {
	t.Helper()
	s, err := c.Clientset.CoreV1().Secrets(ns).Get(ctx, certs.DefaultSecretName, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("reading the Secret: %v", err)
	}
	return s
}

func certsParse(t *testing.T, bundle []byte) []*x509.Certificate {
	t.Helper()
	var out []*x509.Certificate
	for _, c := range certsSplit(bundle) {
		cert, err := x509.ParseCertificate(c)
		if err != nil {
			t.Fatalf("parsing the bundle: %v", err)
		}
		out = append(out, cert)
	}
	return out
}

// certsCount is how many certificates a PEM bundle holds.
func certsCount(bundle []byte) int { return len(certsSplit(bundle)) }

func certsSplit(bundle []byte) [][]byte {
	var ders [][]byte
	for {
		var block *pem.Block
		block, bundle = pem.Decode(bundle)
		if block == nil {
			return ders
		}
		if block.Type == "CERTIFICATE" {
			ders = append(ders, block.Bytes)
		}
	}
}

// certsEventually retries f every 200 ms until it succeeds or ctx ends.
func certsEventually(ctx context.Context, t *testing.T, what string, f func() error) {
	t.Helper()
	for {
		err := f()
		if err == nil {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("timed out waiting for %s: %v", what, err)
		case <-time.After(200 * time.Millisecond):
		}
	}
}
