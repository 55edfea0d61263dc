// Package rollout runs the re-bootstrap controller's own planner from the CLI: it reads the
// cluster through the API server (the MeshConfig, namespaces, Deployments, StatefulSets,
// DaemonSets and the pods' metadata, with rebootstrap.ReadSnapshot), optionally edits the
// MeshConfig in memory, and feeds rebootstrap.Collect and rebootstrap.Plan, so that what it
// reports or stamps is what the controller would decide. PreviewChange (osm tracing plan)
// reads the cluster once and collects without and with an edit; it only reads.
package rollout
