package webhook

import (
	"strings"
	"testing"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
)

// TestCheckServiceReady holds heals until the webhook's Service lists a ready endpoint.
func TestCheckServiceReady(t *testing.T) {
	slice := func(service string, ready ...*bool) *discoveryv1.EndpointSlice {
		s := &discoveryv1.EndpointSlice{
			ObjectMeta: metav1.ObjectMeta{Name: service + "-x", Namespace: "osm-system",
				Labels: map[string]string{discoveryv1.LabelServiceName: service}},
			AddressType: discoveryv1.AddressTypeIPv4,
		}
		for _, r := range ready {
			s.Endpoints = append(s.Endpoints, discoveryv1.Endpoint{Addresses: []string{"10.1.0.9"}, Conditions: discoveryv1.EndpointConditions{Ready: r}})
		}
		return s
	}
	byService := liveConfig(nil, WebhookName)
	byService.Webhooks[0].ClientConfig.Service = &admissionregistrationv1.ServiceReference{Namespace: "osm-system", Name: "osm-injector"}
	byURL := liveConfig(nil, WebhookName)
	url := "https://127.0.0.1:9443/mutate-v1-pod"
	byURL.Webhooks[0].ClientConfig.URL = &url
	yes, no := true, false
	for name, tc := range map[string]struct {
		live    *admissionregistrationv1.MutatingWebhookConfiguration
		objects []client.Object
		wantErr string
	}{
		"a webhook called by URL has no Service to wait for": {live: byURL},
		"no EndpointSlice yet":                               {live: byService, wantErr: "osm-system/osm-injector has no ready endpoint yet"},
		"endpoints, none ready":                              {live: byService, objects: []client.Object{slice("osm-injector", &no, &no)}, wantErr: "no ready endpoint"},
		"another Service's ready endpoint does not count":    {live: byService, objects: []client.Object{slice("jaeger", &yes)}, wantErr: "no ready endpoint"},
		"one ready endpoint":                                 {live: byService, objects: []client.Object{slice("osm-injector", &no, &yes)}},
		"an unset ready condition counts as ready":           {live: byService, objects: []client.Object{slice("osm-injector", nil)}},
	} {
		t.Run(name, func(t *testing.T) {
			s := runtime.NewScheme()
			if err := discoveryv1.AddToScheme(s); err != nil {
				t.Fatal(err)
			}
			reader := fake.NewClientBuilder().WithScheme(s).WithObjects(tc.objects...).Build()
			err := CheckServiceReady(t.Context(), reader, tc.live)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Errorf("err = %v, want none", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Errorf("err = %v, want one with %q", err, tc.wantErr)
			}
		})
	}
}
