package app

import (
	"testing"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// TestSchemeHasWhatHealReadyReads: the heal gate reads the webhook configuration and the
// EndpointSlices of its Service; a type missing from the scheme fails every read, and heals
// would wait forever (as they did on the real node before EndpointSlices were added).
func TestSchemeHasWhatHealReadyReads(t *testing.T) {
	s, err := newScheme()
	if err != nil {
		t.Fatal(err)
	}
	for _, obj := range []runtime.Object{&discoveryv1.EndpointSliceList{}, &admissionregistrationv1.MutatingWebhookConfiguration{}} {
		if _, _, err := s.ObjectKinds(obj); err != nil {
			t.Errorf("%T: %v", obj, err)
		}
	}
}
