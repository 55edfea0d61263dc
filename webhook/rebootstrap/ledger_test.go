package rebootstrap

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/osm-tracing/osm-tracing/bootstrap"
)

func TestStampLedger(t *testing.T) {
	var l stampLedger
	a := wl("a", func(w *Workload) { w.UID, w.Generation = "ua", 4 })
	b := wl("b", func(w *Workload) { w.UID, w.Generation = "ub", 2 })
	c := wl("c", func(w *Workload) { w.UID, w.Generation = "uc", 1 })
	l.record(a.Ref, "ua", "new", 5)
	l.record(b.Ref, "ub", "new", 2)
	l.record(c.Ref, "other-uid", "new", 2)
	l.record(Ref{Kind: bootstrap.KindDeployment, Namespace: "ns", Name: "gone"}, "ug", "new", 2)

	ws := []Workload{a, b, c}
	l.apply(ws)
	if ws[0].Stamped != "new" || ws[0].Rollout.Phase != PhaseProgressing {
		t.Errorf("a stamp the cache has not shown is not applied: %+v", ws[0])
	}
	if ws[1].Stamped != "" || ws[1].Rollout.Phase != PhaseComplete {
		t.Errorf("a stamp the cache shows is applied again: %+v", ws[1])
	}
	if ws[2].Stamped != "" {
		t.Errorf("a stamp of a recreated workload is applied: %+v", ws[2])
	}
	if len(l.m) != 1 {
		t.Errorf("ledger keeps %d records, want only a's: %v", len(l.m), l.m)
	}
	// The plan then sees a rolling, so the bound holds.
	res := Plan(Input{Workloads: []Workload{ws[0], wl("d"), wl("e")}, MaxConcurrent: 2})
	if res.Rolling != 1 || res.Stamps != 1 {
		t.Errorf("rolling %d stamps %d, want 1 and 1", res.Rolling, res.Stamps)
	}
	ws[0].Generation = 5
	l.apply(ws[:1])
	if len(l.m) != 0 {
		t.Errorf("a record survives its generation: %v", l.m)
	}
}

func TestSettleClock(t *testing.T) {
	var c settleClock
	t0 := time.Unix(1000, 0)
	if why, wait := c.hold("a", t0, time.Second); why == "" || wait != time.Second {
		t.Errorf("a new target is not held: %q %s", why, wait)
	}
	if why, wait := c.hold("a", t0.Add(400*time.Millisecond), time.Second); !strings.Contains(why, "changed 400ms ago") || wait != 600*time.Millisecond {
		t.Errorf("hold %q %s", why, wait)
	}
	if why, _ := c.hold("a", t0.Add(time.Second), time.Second); why != "" {
		t.Errorf("a settled target is held: %q", why)
	}
	if why, _ := c.hold("b", t0.Add(2*time.Second), time.Second); why == "" {
		t.Errorf("a changed target is not held")
	}
	if why, _ := c.hold("c", t0.Add(3*time.Second), 0); why != "" {
		t.Errorf("no delay still holds: %q", why)
	}
}

func TestHasherGeneratesThroughTheBootstrapCache(t *testing.T) {
	shared := bootstrap.NewCache(0)
	h := Hasher{
		Bootstraps: shared,
		Resolve: func(in bootstrap.Input) (bootstrap.Settings, error) {
			if in.PodName == "bad" {
				return bootstrap.Settings{}, errors.New("bad annotation")
			}
			return bootstrap.Settings{ServiceName: in.Owner.Name}, nil
		},
	}
	want := map[string]string{}
	for _, name := range []string{"a", "b"} {
		g, err := bootstrap.Generate(bootstrap.Settings{ServiceName: name})
		if err != nil {
			t.Fatal(err)
		}
		want[name] = g.Hash
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for _, name := range []string{"a", "b", "a", "b"} {
				got, _, err := h.Hash(bootstrap.Input{Owner: bootstrap.Workload{Kind: bootstrap.KindDeployment, Name: name}})
				if err != nil || got != want[name] {
					t.Errorf("hash of %s: %q %v, want %q", name, got, err, want[name])
				}
			}
		})
	}
	wg.Wait()
	if n, yaml := shared.Hashed(), shared.Len(); n != 2 || yaml != 0 {
		t.Errorf("the shared cache holds the hashes of %d settings and %d rendered bootstraps; want 2 "+
			"(2 distinct settings) and 0 (the controller needs no YAML)", n, yaml)
	}
	if _, _, err := h.Hash(bootstrap.Input{PodName: "bad"}); err == nil || err.Error() != "bad annotation" {
		t.Errorf("resolve error: %v", err)
	}
	if _, _, err := h.Hash(bootstrap.Input{Owner: bootstrap.Workload{Name: "not a label"}}); err == nil ||
		!strings.Contains(err.Error(), `when generating the bootstrap of service "not a label"`) {
		t.Errorf("generate error: %v", err)
	}
	if n := shared.Hashed(); n != 2 {
		t.Errorf("the shared cache holds the hashes of %d settings after errors, want 2 (errors are not cached)", n)
	}
}

func TestHasherDefaultsToTheCore(t *testing.T) {
	var h Hasher
	in := bootstrap.Input{Defaults: bootstrap.Defaults(""), Owner: bootstrap.Workload{Kind: "Deployment", Name: "bookbuyer"}}
	got, settings, err := h.Hash(in)
	if err != nil {
		t.Fatal(err)
	}
	s, err := bootstrap.Resolve(in)
	if err != nil {
		t.Fatal(err)
	}
	g, err := bootstrap.Generate(s)
	if err != nil || g.Hash != got || settings != bootstrap.SettingsHash(s) {
		t.Errorf("hasher %s %s, core %s %s (%v)", got, settings, g.Hash, bootstrap.SettingsHash(s), err)
	}
}

func TestMeshTarget(t *testing.T) {
	a := bootstrap.Defaults("osm-system")
	b := a
	b.Address = "other"
	again := a
	if MeshTarget(a) != MeshTarget(again) || MeshTarget(a) == MeshTarget(b) || len(MeshTarget(a)) != 10 {
		t.Errorf("targets %s %s", MeshTarget(a), MeshTarget(b))
	}
	c := a
	c.Sampling = 50
	d := a
	d.Enable = true
	e := a
	e.Propagation = bootstrap.PropagationB3
	if MeshTarget(a) == MeshTarget(c) || MeshTarget(a) == MeshTarget(d) || MeshTarget(a) == MeshTarget(e) {
		t.Errorf("sampling, enable or propagation do not change the target")
	}
	f := a
	f.Protocol = bootstrap.ProtocolOpenTelemetry
	if MeshTarget(a) == MeshTarget(f) {
		t.Error("the protocol does not change the target")
	}
	g, h := a, a
	g.Tags = "team=literal:payments"
	h.MaxPathTagLength = 1024
	if MeshTarget(a) == MeshTarget(g) || MeshTarget(a) == MeshTarget(h) || MeshTarget(g) == MeshTarget(h) {
		t.Error("the tags or the path tag length do not change the target")
	}
	// One canonical encoding of settings: the target is the core's settings hash.
	if got, want := MeshTarget(a), bootstrap.SettingsHash(bootstrap.Settings{Tracing: a}); got != want {
		t.Errorf("target of the defaults %s, the core's settings hash %s", got, want)
	}
}
