package webhook

import (
	"strings"
	"testing"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestNotCreating: a missing configuration is created only by an injector allowed to create
// it, and only if it has not existed before (a deleted one means an uninstall).
func TestNotCreating(t *testing.T) {
	for _, tc := range []struct {
		name         string
		create, seen bool
		want         string // "" creates; otherwise a word of the reason
	}{
		{name: "run by hand, first start", create: true},
		{name: "run by hand, deleted since", create: true, seen: true, want: "deleted"},
		{name: "chart, not installed yet", want: "the chart creates it"},
		{name: "chart, uninstalled", seen: true, want: "deleted"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := &ConfigReconciler{Create: tc.create}
			r.seen.Store(tc.seen)
			got := r.notCreating()
			if (got == "") != (tc.want == "") || !strings.Contains(got, tc.want) {
				t.Errorf("notCreating() = %q, want %q", got, tc.want)
			}
		})
	}
}

// TestCreatedByApply tells an object the injector's apply just created from one it patched.
func TestCreatedByApply(t *testing.T) {
	ours := metav1.ManagedFieldsEntry{Manager: FieldOwner, Operation: metav1.ManagedFieldsOperationApply}
	helm := metav1.ManagedFieldsEntry{Manager: "helm", Operation: metav1.ManagedFieldsOperationUpdate}
	cainjector := metav1.ManagedFieldsEntry{Manager: "cert-manager-cainjector", Operation: metav1.ManagedFieldsOperationUpdate}
	obj := func(gen int64, fields ...metav1.ManagedFieldsEntry) *admissionregistrationv1.MutatingWebhookConfiguration {
		return &admissionregistrationv1.MutatingWebhookConfiguration{ObjectMeta: metav1.ObjectMeta{
			Name: ConfigurationName, Generation: gen, ManagedFields: fields}}
	}
	for _, tc := range []struct {
		name string
		obj  *admissionregistrationv1.MutatingWebhookConfiguration
		want bool
	}{
		{"created by the apply", obj(1, ours), true},
		{"the chart's, patched", obj(1, helm, ours), false},
		{"the chart's, patched often", obj(4, helm, ours), false},
		{"the injector's own, patched by the cainjector", obj(2, ours, cainjector), false},
		{"the injector's own, changed since", obj(3, ours), false},
		{"no managed fields", obj(1), false},
	} {
		if got := createdByApply(tc.obj); got != tc.want {
			t.Errorf("%s: createdByApply = %v, want %v", tc.name, got, tc.want)
		}
	}
}
