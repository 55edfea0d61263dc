package inject

import "github.com/osm-tracing/osm-tracing/bootstrap"

// PodRun is what a live pod runs, as its labels say: its bootstrap hash (the label
// bootstrap.BootstrapHashKey, set at injection) and the settings hash it was generated from
// (bootstrap.SettingsHashKey). Hash is "" for a pod without the sidecar; Settings is "" for a
// pod admitted by an injector older than the settings-hash label.
type PodRun struct {
	Hash     string
	Settings string
}

// RunOf reads a pod's PodRun from its labels.
func RunOf(podLabels map[string]string) PodRun {
	return PodRun{Hash: podLabels[bootstrap.BootstrapHashKey], Settings: podLabels[bootstrap.SettingsHashKey]}
}

// Standing is where a live pod stands against its target: the bootstrap hash and settings
// hash the webhook would give it now.
type Standing int

const (
	// StandingCurrent: it runs the target bootstrap.
	StandingCurrent Standing = iota
	// StandingOutdated: it runs another bootstrap, rendered from the target's settings by
	// another osm-injector version, or from settings that cannot be told (no settings-hash
	// label: an injector older than the label admitted it). Rolled only when asked.
	StandingOutdated
	// StandingStale: it runs a bootstrap of other settings than the target's.
	StandingStale
	// StandingUninjected: it runs without the sidecar (no bootstrap-hash label).
	StandingUninjected
)

func (s Standing) String() string {
	switch s {
	case StandingCurrent:
		return "current"
	case StandingOutdated:
		return "outdated"
	case StandingStale:
		return "stale"
	case StandingUninjected:
		return "uninjected"
	}
	return "unknown"
}

// PodStanding says where a pod that runs run stands against the target bootstrap hash and
// settings hash. It is the one rule the re-bootstrap controller (which rolls stale
// workloads, and outdated ones only when asked) and osm tracing check (which fails stale
// pods and warns of outdated ones) share.
//
// A pod without the settings-hash label whose bootstrap differs from the target is
// outdated, not stale: what settings it runs cannot be told from its labels, and the
// likeliest cause of its different bootstrap is the upgrade that brought the label, so it
// is not rolled by itself (a settings change made before such a pod restarts does not roll
// it either; reports say it is outdated and why).
func PodStanding(run PodRun, targetHash, targetSettings string) Standing {
	switch {
	case run.Hash == "":
		return StandingUninjected
	case run.Hash == targetHash:
		return StandingCurrent
	case run.Settings == "" || run.Settings == targetSettings:
		return StandingOutdated
	}
	return StandingStale
}
