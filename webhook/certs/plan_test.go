package certs

import (
	"crypto/x509"
	"net"
	"slices"
	"strings"
	"testing"
	"time"
)

// step plans at now and round-trips the result through a Secret, as sync does.
func step(t *testing.T, o Options, cur material, now time.Time) (material, []string) {
	t.Helper()
	m, changes, err := plan(now, o, cur)
	if err != nil {
		t.Fatalf("plan at %v: %v", now, err)
	}
	_, back := store(t, m)
	return back, changes
}

// verify checks that bundle trusts the serving certificate for every required name at now.
func verify(t *testing.T, o Options, bundle []*x509.Certificate, serving *keyPair, now time.Time) error {
	t.Helper()
	roots := x509.NewCertPool()
	for _, c := range bundle {
		roots.AddCert(c)
	}
	hosts := slices.Clone(o.DNSNames)
	for _, ip := range o.IPAddresses {
		hosts = append(hosts, ip.String())
	}
	for _, h := range hosts {
		if _, err := serving.Cert.Verify(x509.VerifyOptions{
			DNSName: h, Roots: roots, CurrentTime: now, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		}); err != nil {
			return err
		}
	}
	return nil
}

func TestPlanFreshSecret(t *testing.T) {
	o := testOptions(t, newFakeClock())
	m, changes := step(t, o, material{}, t0)
	if len(changes) == 0 {
		t.Fatal("no changes planned for an empty Secret")
	}
	if len(m.bundle) != 1 || !m.bundle[0].Equal(m.signer.Cert) || m.next != nil {
		t.Errorf("bundle %v, signer %s, next %v", names(m.bundle), m.signer.Cert.Subject.CommonName, m.next)
	}
	if err := verify(t, o, m.bundle, m.serving, t0); err != nil {
		t.Errorf("the bundle does not trust the serving certificate: %v", err)
	}
	if _, changes := step(t, o, m, t0.Add(time.Minute)); len(changes) != 0 {
		t.Errorf("a fresh Secret is changed again: %v", changes)
	}
}

func TestPlanRenewsServingCertificateWithSameCA(t *testing.T) {
	o := testOptions(t, newFakeClock())
	m, _ := step(t, o, material{}, t0)
	due := renewAt(m.serving.Cert, o.RenewBefore)
	if _, changes := step(t, o, m, due.Add(-time.Second)); len(changes) != 0 {
		t.Fatalf("changed before the renewal point: %v", changes)
	}
	renewed, changes := step(t, o, m, due)
	if len(changes) != 1 || !strings.Contains(changes[0], "due for renewal") {
		t.Fatalf("changes = %v, want one renewal", changes)
	}
	if renewed.serving.Cert.SerialNumber.Cmp(m.serving.Cert.SerialNumber) == 0 {
		t.Error("serial unchanged")
	}
	if !sameCerts(renewed.bundle, m.bundle) || !renewed.signer.Cert.Equal(m.signer.Cert) {
		t.Error("the CA bundle changed on a serving certificate renewal")
	}
	if err := verify(t, o, m.bundle, renewed.serving, due); err != nil {
		t.Errorf("the old bundle does not trust the renewed certificate: %v", err)
	}
}

// TestPlanLifetime runs plan every twenty minutes over two CA lifetimes and checks that every
// serving certificate is trusted by the bundle published BundlePropagation earlier (what an
// API server that is slow to receive the webhook configuration still uses), as well as by
// the current one.
func TestPlanLifetime(t *testing.T) {
	o := testOptions(t, newFakeClock())
	type published struct {
		at     time.Time
		bundle []*x509.Certificate
	}
	var (
		m          material
		history    []published
		rotations  int
		maxBundle  int
		servingIDs = map[string]bool{}
	)
	end := t0.Add(2*o.CAValidity + 50*time.Hour)
	for now := t0; now.Before(end); now = now.Add(20 * time.Minute) {
		var changes []string
		m, changes = step(t, o, m, now)
		for _, c := range changes {
			if strings.Contains(c, "published next CA") {
				rotations++
			}
		}
		if len(history) == 0 || !sameCerts(history[len(history)-1].bundle, m.bundle) {
			history = append(history, published{now, m.bundle})
		}
		maxBundle = max(maxBundle, len(m.bundle))
		servingIDs[m.serving.Cert.SerialNumber.String()] = true
		if err := verify(t, o, m.bundle, m.serving, now); err != nil {
			t.Fatalf("at %v: the current bundle does not trust the serving certificate: %v", now.Sub(t0), err)
		}
		lagging := now.Add(-o.BundlePropagation)
		if lagging.Before(t0) {
			continue
		}
		var old []*x509.Certificate
		for _, p := range history {
			if !p.at.After(lagging) {
				old = p.bundle
			}
		}
		if err := verify(t, o, old, m.serving, now); err != nil {
			t.Fatalf("at %v: the bundle of %v earlier does not trust the serving certificate: %v",
				now.Sub(t0), o.BundlePropagation, err)
		}
	}
	if rotations < 2 {
		t.Errorf("%d CA rotations, want at least 2", rotations)
	}
	if maxBundle != 2 {
		t.Errorf("the bundle held at most %d CAs, want 2", maxBundle)
	}
	if len(servingIDs) < 20 {
		t.Errorf("only %d serving certificates over the run", len(servingIDs))
	}
}

func TestPlanCARotationSteps(t *testing.T) {
	o := testOptions(t, newFakeClock())
	m, _ := step(t, o, material{}, t0)
	oldCA := m.signer.Cert
	rotate := renewAt(oldCA, o.RenewBefore)

	// 1. The next CA is published; serving certificates stay with the old CA.
	m1, changes := step(t, o, m, rotate)
	if m1.next == nil || !m1.nextPublished.Equal(rotate) || len(m1.bundle) != 2 {
		t.Fatalf("after %v: next %v, published %v, bundle %v", changes, m1.next, m1.nextPublished, names(m1.bundle))
	}
	if !m1.signer.Cert.Equal(oldCA) || m1.serving.Cert.CheckSignatureFrom(oldCA) != nil {
		t.Fatal("the signing CA switched before the bundle propagated")
	}

	// Nothing happens to the CAs while the bundle propagates.
	m2, _ := step(t, o, m1, rotate.Add(o.BundlePropagation-time.Second))
	if !m2.signer.Cert.Equal(oldCA) || m2.next == nil {
		t.Fatal("the signing CA switched before BundlePropagation passed")
	}

	// 2. The next CA signs.
	m3, changes := step(t, o, m2, rotate.Add(o.BundlePropagation))
	if !m3.signer.Cert.Equal(m1.next.Cert) || m3.next != nil || m3.serving.Cert.CheckSignatureFrom(m1.next.Cert) != nil {
		t.Fatalf("after %v: the next CA does not sign", changes)
	}
	if !sameCerts(m3.bundle, m1.bundle) {
		t.Error("the bundle changed when switching the signing CA")
	}

	// 3. The old CA leaves the bundle when it expires.
	m4, _ := step(t, o, m3, oldCA.NotAfter.Add(-time.Second))
	if len(m4.bundle) != 2 {
		t.Errorf("the old CA left the bundle before it expired: %v", names(m4.bundle))
	}
	m5, _ := step(t, o, m4, oldCA.NotAfter)
	if len(m5.bundle) != 1 || !m5.bundle[0].Equal(m1.next.Cert) {
		t.Errorf("bundle %v after the old CA expired", names(m5.bundle))
	}
}

func TestPlanRepairs(t *testing.T) {
	o := testOptions(t, newFakeClock())
	base, _ := step(t, o, material{}, t0)
	later := t0.Add(time.Hour)
	cases := map[string]struct {
		edit  func(m *material)
		check func(t *testing.T, before, after material)
	}{
		"a lost CA key gets a new CA; the old CA stays trusted until it expires": {
			func(m *material) { m.signer = nil },
			func(t *testing.T, before, after material) {
				if after.signer.Cert.Equal(before.signer.Cert) {
					t.Error("CA kept")
				}
				if !sameCerts(after.bundle, []*x509.Certificate{before.signer.Cert, after.signer.Cert}) {
					t.Errorf("bundle %v", names(after.bundle))
				}
				if after.serving.Cert.CheckSignatureFrom(after.signer.Cert) != nil {
					t.Error("serving certificate not signed by the new CA")
				}
			},
		},
		"a lost serving certificate is reissued by the same CA": {
			func(m *material) { m.serving = nil },
			func(t *testing.T, before, after material) {
				if !after.signer.Cert.Equal(before.signer.Cert) || !sameCerts(after.bundle, before.bundle) {
					t.Error("CA or bundle changed")
				}
			},
		},
		"a signing CA missing from the bundle is added back": {
			func(m *material) { m.bundle = nil },
			func(t *testing.T, before, after material) {
				if !sameCerts(after.bundle, before.bundle) {
					t.Errorf("bundle %v", names(after.bundle))
				}
			},
		},
		"a next CA without a publication time waits a full propagation from now": {
			func(m *material) {
				ca := mustCA(t, later, o.CAValidity)
				m.next, m.bundle = &ca, append(slices.Clone(m.bundle), ca.Cert)
			},
			func(t *testing.T, before, after material) {
				if after.next == nil || !after.nextPublished.Equal(later) || !after.signer.Cert.Equal(before.signer.Cert) {
					t.Errorf("next %v published %v", after.next, after.nextPublished)
				}
			},
		},
		"an expired signing CA hands over to the next CA": {
			func(m *material) {
				expired := mustCA(t, later.Add(-o.CAValidity), o.CAValidity)
				m.next, m.nextPublished = m.signer, later
				m.signer = &expired
			},
			func(t *testing.T, before, after material) {
				if !after.signer.Cert.Equal(before.signer.Cert) || after.next != nil {
					t.Error("the next CA was not promoted")
				}
			},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			cur := base
			tc.edit(&cur)
			after, changes := step(t, o, cur, later)
			if len(changes) == 0 {
				t.Fatal("no change planned")
			}
			tc.check(t, base, after)
			if err := verify(t, o, after.bundle, after.serving, later); err != nil {
				t.Errorf("bundle does not trust the serving certificate: %v", err)
			}
			if _, again := step(t, o, after, later); len(again) != 0 {
				t.Errorf("not stable: %v", again)
			}
		})
	}
}

func TestPlanMissingNamesKeepsExistingNames(t *testing.T) {
	o := testOptions(t, newFakeClock())
	m, _ := step(t, o, material{}, t0)
	// Another replica requires one more name; both sets end up in the certificate.
	o2 := o
	o2.IPAddresses = nil
	o2.DNSNames = []string{"osm-injector.other.svc"}
	m2, changes := step(t, o2, m, t0.Add(time.Minute))
	if len(changes) != 1 {
		t.Fatalf("changes = %v", changes)
	}
	got := m2.serving.Cert
	if missing := missingNames(got, append(slices.Clone(o.DNSNames), o2.DNSNames...), o.IPAddresses); len(missing) > 0 {
		t.Errorf("lacks %v", missing)
	}
	if _, again := step(t, o, m2, t0.Add(2*time.Minute)); len(again) != 0 {
		t.Errorf("the first replica changes it back: %v", again)
	}
	// At renewal only the renewing replica's names remain.
	due := renewAt(got, o.RenewBefore)
	m3, _ := step(t, o, m2, due)
	if slices.Contains(m3.serving.Cert.DNSNames, "osm-injector.other.svc") ||
		!slices.ContainsFunc(m3.serving.Cert.IPAddresses, net.ParseIP("127.0.0.1").Equal) {
		t.Errorf("renewed names %v %v", m3.serving.Cert.DNSNames, m3.serving.Cert.IPAddresses)
	}
}

func TestNextCheck(t *testing.T) {
	o := testOptions(t, newFakeClock())
	m, _ := step(t, o, material{}, t0)
	if got, want := nextCheck(o, m), renewAt(m.serving.Cert, o.RenewBefore); !got.Equal(want) {
		t.Errorf("steady state: nextCheck = %v, want the serving renewal %v", got, want)
	}
	rotate := renewAt(m.signer.Cert, o.RenewBefore)
	m1, _ := step(t, o, m, rotate)
	if got, want := nextCheck(o, m1), rotate.Add(o.BundlePropagation); !got.Equal(want) {
		t.Errorf("rotating: nextCheck = %v, want the end of propagation %v", got, want)
	}
	if !nextCheck(o, material{}).IsZero() {
		t.Error("empty material has a next check")
	}
}
