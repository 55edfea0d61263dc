package rebootstrap

import (
	"sync"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// maxInterned bounds the interned strings: label and annotation keys, namespaces and owner
// kinds are few in any cluster, and a cluster that has more only loses the sharing.
const maxInterned = 8192

// interned holds one copy of the strings thousands of cached objects repeat. A decoded
// object owns a copy of each of its strings: 10,000 pods carry 10,000 copies of
// "tracing.openservicemesh.io/bootstrap-hash" and of their namespace's name otherwise.
var interned = &internTable{max: maxInterned}

type internTable struct {
	mu  sync.Mutex
	m   map[string]string
	max int
}

// get returns the shared copy of s (s itself the first time, or once the table is full).
func (t *internTable) get(s string) string {
	t.mu.Lock()
	defer t.mu.Unlock()
	if c, ok := t.m[s]; ok {
		return c
	}
	if t.m == nil {
		t.m = map[string]string{}
	}
	if len(t.m) < t.max {
		t.m[s] = s
	}
	return s
}

func intern(s string) string { return interned.get(s) }

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
