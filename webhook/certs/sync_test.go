package certs

import (
	"bytes"
	"context"
	"crypto/x509"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-logr/logr/testr"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
	"k8s.io/utils/clock"
)

var secretsResource = schema.GroupVersionResource{Version: "v1", Resource: "secrets"}

func newProvider(t *testing.T, client *fake.Clientset, clk clock.Clock) *SelfSigned {
	t.Helper()
	o := testOptions(t, clk)
	p, err := NewSelfSigned(client, o)
	if err != nil {
		t.Fatalf("NewSelfSigned: %v", err)
	}
	return p.WithLogger(testr.NewWithOptions(t, testr.Options{Verbosity: 1}))
}

func getSecret(t *testing.T, client *fake.Clientset) *corev1.Secret {
	t.Helper()
	s, err := client.CoreV1().Secrets("osm-system").Get(context.Background(), DefaultSecretName, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("get Secret: %v", err)
	}
	return s
}

func servingSerial(t *testing.T, p *SelfSigned) string {
	t.Helper()
	c, err := p.GetCertificate(nil)
	if err != nil {
		t.Fatalf("GetCertificate: %v", err)
	}
	return c.Leaf.SerialNumber.String()
}

func TestNotReadyBeforeLoad(t *testing.T) {
	p := newProvider(t, fake.NewClientset(), newFakeClock())
	if p.Ready() == nil {
		t.Error("Ready before any load")
	}
	if _, err := p.GetCertificate(nil); err == nil {
		t.Error("GetCertificate before any load")
	}
	if p.CABundle() != nil || p.ServingCertificate() != nil {
		t.Error("bundle or certificate before any load")
	}
	if p.NeedLeaderElection() {
		t.Error("the provider must run on every replica")
	}
}

func TestSyncCreatesSecret(t *testing.T) {
	client := fake.NewClientset()
	clock := newFakeClock()
	p := newProvider(t, client, clock)
	if _, err := p.sync(context.Background()); err != nil {
		t.Fatalf("sync: %v", err)
	}
	s := getSecret(t, client)
	if s.Type != corev1.SecretTypeTLS {
		t.Errorf("type %q", s.Type)
	}
	for _, k := range []string{KeyServingCert, KeyServingKey, KeyCABundle, KeyCAKey} {
		if len(s.Data[k]) == 0 {
			t.Errorf("key %s missing", k)
		}
	}
	if err := p.Ready(); err != nil {
		t.Errorf("Ready: %v", err)
	}
	if !bytes.Equal(p.CABundle(), s.Data[KeyCABundle]) {
		t.Error("CABundle is not the Secret's ca.crt")
	}
	select {
	case <-p.Changed():
	default:
		t.Error("no Changed signal after the first load")
	}
	clock.SetTime(p.ServingCertificate().NotAfter)
	if p.Ready() == nil {
		t.Error("Ready with an expired certificate")
	}
}

func TestReplicasAgree(t *testing.T) {
	client := fake.NewClientset()
	clock := newFakeClock()
	a, b := newProvider(t, client, clock), newProvider(t, client, clock)
	if _, err := a.sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := b.sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.CABundle(), b.CABundle()) || servingSerial(t, a) != servingSerial(t, b) {
		t.Error("replicas serve different certificates")
	}
	for _, action := range client.Actions() {
		if action.GetVerb() == "update" {
			t.Errorf("the second replica rewrote a good Secret: %v", action)
		}
	}
}

// TestCreateRaceReadsWinner: the replica's Get finds nothing, another replica creates the
// Secret, and this replica's Create fails with AlreadyExists; it then serves the winner's.
func TestCreateRaceReadsWinner(t *testing.T) {
	client := fake.NewClientset()
	clock := newFakeClock()
	winner, loser := newProvider(t, client, clock), newProvider(t, client, clock)
	if _, err := winner.sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	var gets atomic.Int32
	client.PrependReactor("get", "secrets", func(k8stesting.Action) (bool, runtime.Object, error) {
		if gets.Add(1) == 1 {
			return true, nil, apierrors.NewNotFound(secretsResource.GroupResource(), DefaultSecretName)
		}
		return false, nil, nil
	})
	if _, err := loser.sync(context.Background()); err != nil {
		t.Fatalf("sync: %v", err)
	}
	if servingSerial(t, loser) != servingSerial(t, winner) || !bytes.Equal(loser.CABundle(), winner.CABundle()) {
		t.Error("the loser of the create race serves its own certificate")
	}
}

// TestUpdateConflictRereads: when renewing, another replica renews first; the update fails
// with Conflict and the replica, reading again, serves the other replica's certificate.
func TestUpdateConflictRereads(t *testing.T) {
	client := fake.NewClientset()
	clock := newFakeClock()
	p := newProvider(t, client, clock)
	if _, err := p.sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	clock.SetTime(renewAt(p.ServingCertificate(), p.opts.RenewBefore))

	// What the other replica writes: the Secret renewed.
	renewed := getSecret(t, client)
	m, changes, err := plan(clock.Now(), p.opts, decodeSecret(renewed))
	if err != nil || len(changes) == 0 {
		t.Fatalf("plan: %v %v", changes, err)
	}
	if err := m.applyTo(renewed); err != nil {
		t.Fatal(err)
	}
	var updates atomic.Int32
	client.PrependReactor("update", "secrets", func(k8stesting.Action) (bool, runtime.Object, error) {
		if updates.Add(1) > 1 {
			return false, nil, nil
		}
		if err := client.Tracker().Update(secretsResource, renewed, "osm-system"); err != nil {
			t.Errorf("tracker update: %v", err)
		}
		return true, nil, apierrors.NewConflict(secretsResource.GroupResource(), DefaultSecretName, nil)
	})
	if _, err := p.sync(context.Background()); err != nil {
		t.Fatalf("sync: %v", err)
	}
	if got, want := servingSerial(t, p), m.serving.Cert.SerialNumber.String(); got != want {
		t.Errorf("serving %s, want the other replica's %s", got, want)
	}
	if n := updates.Load(); n != 1 {
		t.Errorf("%d updates, want only the one that lost", n)
	}
}

func TestSyncGivesUpWhenAlwaysRacing(t *testing.T) {
	client := fake.NewClientset()
	p := newProvider(t, client, newFakeClock())
	client.PrependReactor("create", "secrets", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewAlreadyExists(secretsResource.GroupResource(), DefaultSecretName)
	})
	if _, err := p.sync(context.Background()); err == nil {
		t.Fatal("sync succeeded")
	}
	if p.Ready() == nil {
		t.Error("ready without a certificate")
	}
}

func TestSyncRepairsBrokenSecret(t *testing.T) {
	client := fake.NewClientset(&corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: DefaultSecretName, Namespace: "osm-system", Labels: map[string]string{"keep": "me"}},
		Type:       corev1.SecretTypeTLS,
		Data:       map[string][]byte{KeyServingCert: []byte("junk"), KeyServingKey: []byte("junk"), "other": []byte("x")},
	})
	p := newProvider(t, client, newFakeClock())
	if _, err := p.sync(context.Background()); err != nil {
		t.Fatalf("sync: %v", err)
	}
	s := getSecret(t, client)
	if m := decodeSecret(s); len(m.problems) > 0 {
		t.Errorf("still broken: %v", m.problems)
	}
	if s.Labels["keep"] != "me" || string(s.Data["other"]) != "x" {
		t.Error("foreign labels or keys dropped")
	}
	if err := p.Ready(); err != nil {
		t.Errorf("Ready: %v", err)
	}
}

func TestDeletedSecretKeepsTheCA(t *testing.T) {
	client := fake.NewClientset()
	clock := newFakeClock()
	p := newProvider(t, client, clock)
	if _, err := p.sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	bundle := p.CABundle()
	if err := client.CoreV1().Secrets("osm-system").Delete(context.Background(), DefaultSecretName, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	clock.SetTime(t0.Add(time.Minute))
	if _, err := p.sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(getSecret(t, client).Data[KeyCABundle], bundle) {
		t.Error("the recreated Secret has another CA bundle")
	}
}

func TestLoadIgnoresOlderVersions(t *testing.T) {
	client := fake.NewClientset()
	p := newProvider(t, client, newFakeClock())
	if _, err := p.sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	newer := getSecret(t, client)
	newer.ResourceVersion = "20"
	p.load(newer)
	serial := servingSerial(t, p)

	o := p.opts
	ca := mustCA(t, t0, o.CAValidity)
	leaf := mustServing(t, ca, t0, o.CertValidity, o.DNSNames, o.IPAddresses)
	older, _ := store(t, material{bundle: []*x509.Certificate{ca.Cert}, signer: &ca, serving: &leaf})
	older.ResourceVersion = "19"
	p.load(older)
	if servingSerial(t, p) != serial {
		t.Error("an older Secret replaced the served certificate")
	}
	older.ResourceVersion = "21"
	p.load(older)
	if servingSerial(t, p) == serial {
		t.Error("a newer Secret was not loaded")
	}
}

// TestStartFollowsRotations runs two providers on the fake clientset and one fake clock: both
// load one Secret, and when the clock reaches the serving certificate's renewal time the
// loops' timers fire and both follow the renewal, with the bundle unchanged. No test time
// passes for the certificate's lifetime: the test steps the clock.
func TestStartFollowsRotations(t *testing.T) {
	client := fake.NewClientset()
	clk := newFakeClock()
	opts := testOptions(t, clk)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var providers []*SelfSigned
	done := make(chan error, 2)
	for range 2 {
		p, err := NewSelfSigned(client, opts)
		if err != nil {
			t.Fatal(err)
		}
		p.WithLogger(testr.NewWithOptions(t, testr.Options{Verbosity: 1}))
		providers = append(providers, p)
		go func() { done <- p.Start(ctx) }()
	}
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		err := wait.PollUntilContextTimeout(ctx, 20*time.Millisecond, 15*time.Second, true, func(context.Context) (bool, error) {
			return cond(), nil
		})
		if err != nil {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
	serial := func(p *SelfSigned) string {
		if c := p.ServingCertificate(); c != nil {
			return c.SerialNumber.String()
		}
		return ""
	}
	waitFor("both replicas to serve one certificate", func() bool {
		return serial(providers[0]) != "" && serial(providers[0]) == serial(providers[1])
	})
	if err := providers[0].Start(ctx); err == nil {
		t.Error("a second Start succeeded")
	}
	first, bundle := serial(providers[0]), providers[0].CABundle()
	clk.SetTime(renewAt(providers[0].ServingCertificate(), opts.RenewBefore))
	waitFor("both replicas to serve a renewed certificate", func() bool {
		s := serial(providers[0])
		if s != first && s == serial(providers[1]) {
			return true
		}
		// A loop that armed its timer after the jump waits minWait more, on the fake clock.
		clk.Step(minWait)
		return false
	})
	if !bytes.Equal(providers[0].CABundle(), bundle) || !bytes.Equal(providers[1].CABundle(), bundle) {
		t.Error("the CA bundle changed on a serving certificate renewal")
	}
	cancel()
	for range 2 {
		if err := <-done; err != nil {
			t.Errorf("Start: %v", err)
		}
	}
}
