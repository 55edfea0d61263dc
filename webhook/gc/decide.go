package gc

import "time"

// Observation is what the controller knows of one managed ConfigMap.
type Observation struct {
	// Now is the current time.
	Now time.Time
	// Created is the ConfigMap's creationTimestamp.
	Created time.Time
	// Referenced is true when some pod in its namespace carries its hash.
	Referenced bool
	// UnreferencedSince is when the controller first saw it unreferenced; zero if never.
	UnreferencedSince time.Time
	// Grace is how long an unreferenced ConfigMap is kept.
	Grace time.Duration
}

// Decision says what to do with the ConfigMap.
type Decision struct {
	// Delete is true when the ConfigMap is to be deleted now.
	Delete bool
	// UnreferencedSince is what to remember (zero: forget).
	UnreferencedSince time.Time
	// RequeueAfter is when to look again; zero when only an event can change the answer.
	RequeueAfter time.Duration
}

// Decide deletes a ConfigMap once it has been unreferenced for Grace and is older than Grace.
func Decide(o Observation) Decision {
	if o.Referenced {
		return Decision{}
	}
	since := o.UnreferencedSince
	if since.IsZero() || since.After(o.Now) {
		since = o.Now
	}
	deadline := since.Add(o.Grace)
	if byAge := o.Created.Add(o.Grace); byAge.After(deadline) {
		deadline = byAge
	}
	if !o.Now.Before(deadline) {
		return Decision{Delete: true, UnreferencedSince: since}
	}
	return Decision{UnreferencedSince: since, RequeueAfter: deadline.Sub(o.Now)}
}
