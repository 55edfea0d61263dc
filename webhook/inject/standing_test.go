package inject_test

import (
	"testing"

	"github.com/osm-tracing/osm-tracing/bootstrap"
	"github.com/osm-tracing/osm-tracing/webhook/inject"
)

func TestPodStanding(t *testing.T) {
	const hash, settings = "h-target", "s-target"
	tests := map[string]struct {
		run  inject.PodRun
		want inject.Standing
	}{
		"the target bootstrap":                        {run: inject.PodRun{Hash: hash, Settings: settings}, want: inject.StandingCurrent},
		"the target bootstrap, no settings label":     {run: inject.PodRun{Hash: hash}, want: inject.StandingCurrent},
		"the target's settings, another rendering":    {run: inject.PodRun{Hash: "h-old", Settings: settings}, want: inject.StandingOutdated},
		"no settings label, another bootstrap":        {run: inject.PodRun{Hash: "h-old"}, want: inject.StandingOutdated},
		"other settings":                              {run: inject.PodRun{Hash: "h-old", Settings: "s-old"}, want: inject.StandingStale},
		"no sidecar":                                  {run: inject.PodRun{}, want: inject.StandingUninjected},
		"no bootstrap label, a settings label anyway": {run: inject.PodRun{Settings: settings}, want: inject.StandingUninjected},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := inject.PodStanding(tc.run, hash, settings); got != tc.want {
				t.Errorf("PodStanding(%+v) = %s, want %s", tc.run, got, tc.want)
			}
		})
	}
}

func TestRunOf(t *testing.T) {
	got := inject.RunOf(map[string]string{bootstrap.BootstrapHashKey: "h", bootstrap.SettingsHashKey: "s", "app": "x"})
	if got != (inject.PodRun{Hash: "h", Settings: "s"}) {
		t.Errorf("RunOf = %+v", got)
	}
	if got := inject.RunOf(nil); got != (inject.PodRun{}) {
		t.Errorf("RunOf(nil) = %+v", got)
	}
}
