package bootstrap_test

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/osm-tracing/osm-tracing/bootstrap"
)

// ownedPod is a pod named name, controlled by apiVersion/kind ownerName, with labels.
func resolveOwnedPod(name, generateName, apiVersion, kind, ownerName string, labels map[string]string) *corev1.Pod {
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, GenerateName: generateName, Namespace: "shop", Labels: labels}}
	if kind != "" {
		p.OwnerReferences = []metav1.OwnerReference{{APIVersion: apiVersion, Kind: kind, Name: ownerName, Controller: resolvePtr(true)}}
	}
	return p
}

func TestOwnerOf(t *testing.T) {
	hash := map[string]string{"pod-template-hash": "5d7f8c9b4", "app": "bookstore"}
	tests := map[string]struct {
		pod  *corev1.Pod
		want bootstrap.Workload
	}{
		"a Deployment's pod is named after the Deployment by stripping the template hash": {
			pod:  resolveOwnedPod("", "bookstore-v1-5d7f8c9b4-", "apps/v1", "ReplicaSet", "bookstore-v1-5d7f8c9b4", hash),
			want: bootstrap.Workload{Kind: "Deployment", Name: "bookstore-v1"},
		},
		"a ReplicaSet without the template hash label stays a ReplicaSet": {
			pod:  resolveOwnedPod("rs-x", "", "apps/v1", "ReplicaSet", "my-rs", nil),
			want: bootstrap.Workload{Kind: "ReplicaSet", Name: "my-rs"},
		},
		"a ReplicaSet whose name does not end with the hash stays a ReplicaSet": {
			pod:  resolveOwnedPod("rs-x", "", "apps/v1", "ReplicaSet", "my-rs", hash),
			want: bootstrap.Workload{Kind: "ReplicaSet", Name: "my-rs"},
		},
		"a ReplicaSet named only after the hash stays a ReplicaSet": {
			pod:  resolveOwnedPod("rs-x", "", "apps/v1", "ReplicaSet", "5d7f8c9b4", hash),
			want: bootstrap.Workload{Kind: "ReplicaSet", Name: "5d7f8c9b4"},
		},
		"a StatefulSet's pod": {
			pod:  resolveOwnedPod("db-0", "", "apps/v1", "StatefulSet", "db", nil),
			want: bootstrap.Workload{Kind: "StatefulSet", Name: "db"},
		},
		"a DaemonSet's pod": {
			pod:  resolveOwnedPod("", "agent-", "apps/v1", "DaemonSet", "agent", nil),
			want: bootstrap.Workload{Kind: "DaemonSet", Name: "agent"},
		},
		"a Job's pod": {
			pod:  resolveOwnedPod("", "migrate-", "batch/v1", "Job", "migrate", nil),
			want: bootstrap.Workload{Kind: "Job", Name: "migrate"},
		},
		"a CronJob's Job keeps the Job's name": {
			pod:  resolveOwnedPod("", "report-29012345-", "batch/v1", "Job", "report-29012345", nil),
			want: bootstrap.Workload{Kind: "Job", Name: "report-29012345"},
		},
		"an owner of another group does not count": {
			pod:  resolveOwnedPod("x", "", "apps.kruise.io/v1beta1", "StatefulSet", "db", nil),
			want: bootstrap.Workload{},
		},
		"an unknown kind does not count": {
			pod:  resolveOwnedPod("x", "", "argoproj.io/v1alpha1", "Rollout", "web", nil),
			want: bootstrap.Workload{},
		},
		"an owner that is not the controller does not count": {
			pod: func() *corev1.Pod {
				p := resolveOwnedPod("x", "", "apps/v1", "StatefulSet", "db", nil)
				p.OwnerReferences[0].Controller = nil
				return p
			}(),
			want: bootstrap.Workload{},
		},
		"a bare pod has no owner": {pod: resolveOwnedPod("x", "", "", "", "", nil)},
		"a nil pod has no owner":  {pod: nil},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := bootstrap.OwnerOf(tc.pod); got != tc.want {
				t.Errorf("OwnerOf = %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestWorkloadOf(t *testing.T) {
	for _, kind := range []string{"Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob", "ReplicaSet"} {
		if got := bootstrap.WorkloadOf(kind, "web"); got != (bootstrap.Workload{Kind: kind, Name: "web"}) {
			t.Errorf("WorkloadOf(%s) = %+v", kind, got)
		}
	}
	for _, kind := range []string{"Pod", "Service", ""} {
		if got := bootstrap.WorkloadOf(kind, "web"); !got.IsZero() {
			t.Errorf("WorkloadOf(%s) = %+v, want zero", kind, got)
		}
	}
	if got := bootstrap.WorkloadOf("Deployment", ""); !got.IsZero() {
		t.Errorf("WorkloadOf without a name = %+v", got)
	}
	if s := bootstrap.WorkloadOf("Deployment", "web").String(); s != "Deployment/web" {
		t.Errorf("String = %q", s)
	}
}

func TestResolveServiceName(t *testing.T) {
	tests := map[string]struct {
		pod  *corev1.Pod
		ann  map[string]string
		want string
	}{
		"the guide's bookbuyer is named after its Deployment": {
			pod: resolveOwnedPod("", "bookbuyer-7c9d8f-", "apps/v1", "ReplicaSet", "bookbuyer-7c9d8f",
				map[string]string{"pod-template-hash": "7c9d8f", "app": "bookbuyer", "version": "v1"}),
			want: "bookbuyer",
		},
		"the guide's bookstore-v2 is named after its Deployment, not its app label": {
			pod: resolveOwnedPod("", "bookstore-v2-66c9-", "apps/v1", "ReplicaSet", "bookstore-v2-66c9",
				map[string]string{"pod-template-hash": "66c9", "app": "bookstore", "version": "v2"}),
			want: "bookstore-v2",
		},
		"a StatefulSet's pod is named after the StatefulSet": {
			pod:  resolveOwnedPod("db-0", "", "apps/v1", "StatefulSet", "db", map[string]string{"app": "mysql"}),
			want: "db",
		},
		"a DaemonSet's pod is named after the DaemonSet": {
			pod:  resolveOwnedPod("", "agent-", "apps/v1", "DaemonSet", "agent", nil),
			want: "agent",
		},
		"a Job's pod is named after the Job": {
			pod:  resolveOwnedPod("", "migrate-", "batch/v1", "Job", "migrate", nil),
			want: "migrate",
		},
		"the service-name annotation wins over the owner": {
			pod:  resolveOwnedPod("db-0", "", "apps/v1", "StatefulSet", "db", nil),
			ann:  map[string]string{bootstrap.AnnotationServiceName: "orders-db"},
			want: "orders-db",
		},
		"without an owner, app.kubernetes.io/name comes first": {
			pod:  resolveOwnedPod("web-1", "", "", "", "", map[string]string{"app.kubernetes.io/name": "shop-web", "app": "web"}),
			want: "shop-web",
		},
		"without an owner or app.kubernetes.io/name, the app label": {
			pod:  resolveOwnedPod("web-1", "", "", "", "", map[string]string{"app": "web"}),
			want: "web",
		},
		"a bare pod is named after itself": {
			pod:  resolveOwnedPod("debug", "", "", "", "", map[string]string{"version": "v1"}),
			want: "debug",
		},
		"a bare pod with only generateName is named after the prefix": {
			pod:  resolveOwnedPod("", "debug-", "", "", "", nil),
			want: "debug",
		},
		"labels are made DNS-1123 labels": {
			pod:  resolveOwnedPod("x", "", "", "", "", map[string]string{"app": "Book_Store.V1"}),
			want: "book-store-v1",
		},
		"a label that sanitizes to nothing falls through to the next": {
			pod:  resolveOwnedPod("x", "", "", "", "", map[string]string{"app.kubernetes.io/name": "___", "app": "web"}),
			want: "web",
		},
		"a long owner name is cut to 63 bytes": {
			pod:  resolveOwnedPod("", "x-", "apps/v1", "StatefulSet", strings.Repeat("a", 62)+".b.c", nil),
			want: strings.Repeat("a", 62),
		},
		"a pod without any name is unknown": {
			pod:  resolveOwnedPod("", "", "", "", "", nil),
			want: "unknown",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			podName := tc.pod.Name
			if podName == "" {
				podName = tc.pod.GenerateName
			}
			got, err := bootstrap.Resolve(bootstrap.Input{
				Defaults:       resolveDefaults,
				PodAnnotations: tc.ann,
				Owner:          bootstrap.OwnerOf(tc.pod),
				PodLabels:      tc.pod.Labels,
				PodName:        podName,
			})
			if err != nil {
				t.Fatalf("Resolve: %v", err)
			}
			if got.ServiceName != tc.want {
				t.Errorf("service name = %q, want %q", got.ServiceName, tc.want)
			}
		})
	}
}

func TestSanitizeServiceName(t *testing.T) {
	tests := map[string]struct{ in, want string }{
		"a label is kept":                        {"bookstore-v1", "bookstore-v1"},
		"upper case is lowered":                  {"BookStore", "bookstore"},
		"runs of other characters become a dash": {"a__b..c", "a-b-c"},
		"leading and trailing junk is trimmed":   {"--a--", "a"},
		"a generateName prefix loses its dash":   {"web-", "web"},
		"non-ASCII becomes a dash":               {"café-bar", "caf-bar"},
		"nothing usable gives nothing":           {"___", ""},
		"the empty name gives nothing":           {"", ""},
		"a long name is cut without a trailing dash": {
			strings.Repeat("a", 62) + "_b", strings.Repeat("a", 62),
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := bootstrap.SanitizeServiceName(tc.in); got != tc.want {
				t.Errorf("SanitizeServiceName(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

// TestResolveOwnerNameNotAnObjectName: an owner reference's name that no object could have
// (the API server does not check it) gives no workload tag, and the settings render.
func TestResolveOwnerNameNotAnObjectName(t *testing.T) {
	for _, name := range []string{"Bad_Name", "a..b", "-web", strings.Repeat("a", 254)} {
		tracing := resolveDefaults
		tracing.Enable = true
		s, err := bootstrap.Resolve(bootstrap.Input{Defaults: tracing, NamespaceName: "shop", PodName: "web",
			Owner: bootstrap.Workload{Kind: bootstrap.KindDeployment, Name: name}})
		if err != nil {
			t.Fatalf("%.40q: %v", name, err)
		}
		if s.Workload != (bootstrap.Workload{}) {
			t.Errorf("%.40q: workload %v, want none", name, s.Workload)
		}
		if _, err := bootstrap.Generate(s); err != nil {
			t.Errorf("%.40q: Generate: %v", name, err)
		}
	}
}
