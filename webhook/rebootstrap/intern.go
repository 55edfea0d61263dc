package rebootstrap

import (
	"unique"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// intern returns the shared copy of s. A decoded object owns a copy of each of its strings:
// 10,000 pods carry 10,000 copies of "tracing.openservicemesh.io/bootstrap-hash" and of their
// namespace's name otherwise. The unique package holds its copies weakly, so strings no
// cached object uses any more are freed and the table needs no bound.
func intern(s string) string { return unique.Make(s).Value() }

// internKeys returns m with its keys shared (a new map; m is left as it was), without the
// key drop ("" drops nothing).
func internKeys(m map[string]string, drop string) map[string]string {
	if len(m) == 0 {
		return m
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		if k != drop {
			out[intern(k)] = v
		}
	}
	return out
}

// compactMeta drops from an object's metadata what nothing here reads (managed fields,
// kubectl's last-applied copy) and shares its repeated strings: namespace, label and
// annotation keys, owners' API versions and kinds.
func compactMeta(m metav1.Object) {
	m.SetManagedFields(nil)
	m.SetNamespace(intern(m.GetNamespace()))
	m.SetLabels(internKeys(m.GetLabels(), ""))
	m.SetAnnotations(internKeys(m.GetAnnotations(), lastApplied))
	owners := m.GetOwnerReferences()
	for i := range owners {
		owners[i].APIVersion, owners[i].Kind = intern(owners[i].APIVersion), intern(owners[i].Kind)
	}
}
