package bootstrap

import (
	"reflect"
	"regexp"
	"testing"
)

// TestSettingsHashCoversEveryField fails when a field is added to Settings or Tracing: add it
// to SettingsHash's encoding, to the cases of TestSettingsHashChangesWithEveryField, and
// then update the counts here.
func TestSettingsHashCoversEveryField(t *testing.T) {
	if n := reflect.TypeOf(Settings{}).NumField(); n != 4 {
		t.Errorf("Settings has %d fields, SettingsHash encodes 4: encode the new one", n)
	}
	if n := reflect.TypeOf(Tracing{}).NumField(); n != 12 {
		t.Errorf("Tracing has %d fields, SettingsHash encodes 12: encode the new one", n)
	}
	if n := reflect.TypeOf(Workload{}).NumField(); n != 2 {
		t.Errorf("Workload has %d fields, SettingsHash encodes 2: encode the new one", n)
	}
}

func TestSettingsHashChangesWithEveryField(t *testing.T) {
	base := Settings{Tracing: Defaults("osm-system"), ServiceName: "bookbuyer", Workload: Workload{Kind: KindDeployment, Name: "bookbuyer"}}
	tests := map[string]func(*Settings){
		"enable":             func(s *Settings) { s.Tracing.Enable = !s.Tracing.Enable },
		"address":            func(s *Settings) { s.Tracing.Address = "zipkin.other" },
		"port":               func(s *Settings) { s.Tracing.Port = 9412 },
		"endpoint":           func(s *Settings) { s.Tracing.Endpoint = "/v2" },
		"sampling":           func(s *Settings) { s.Tracing.Sampling = 99.5 },
		"service name":       func(s *Settings) { s.ServiceName = "bookstore" },
		"protocol":           func(s *Settings) { s.Tracing.Protocol = ProtocolOpenTelemetry },
		"propagation":        func(s *Settings) { s.Tracing.Propagation = PropagationB3 },
		"workload kind":      func(s *Settings) { s.Workload = Workload{Kind: KindStatefulSet, Name: "bookbuyer"} },
		"workload name":      func(s *Settings) { s.Workload = Workload{Kind: KindDeployment, Name: "other"} },
		"server-first ports": func(s *Settings) { s.ServerFirstPorts = "21" },
		"inbound span name":  func(s *Settings) { s.Tracing.InboundSpanName = "%REQ(:METHOD)%" },
		"outbound span name": func(s *Settings) { s.Tracing.OutboundSpanName = "%REQ(:METHOD)%" },
		"access log":         func(s *Settings) { s.Tracing.AccessLog = true },
		// Quoting keeps field boundaries: moving text from one string to the next differs.
		"text moved between fields": func(s *Settings) {
			s.Tracing.Address, s.ServiceName = s.Tracing.Address+"\nserviceName=\"bookbuyer\"", ""
		},
	}
	h := SettingsHash(base)
	for name, edit := range tests {
		t.Run(name, func(t *testing.T) {
			s := base
			edit(&s)
			if SettingsHash(s) == h {
				t.Errorf("changing %s keeps the settings hash %s", name, h)
			}
		})
	}
}

func TestSettingsHashIsAStableLabelValue(t *testing.T) {
	s := Settings{Tracing: Defaults("osm-system"), ServiceName: "bookbuyer"}
	h := SettingsHash(s)
	if !regexp.MustCompile(`^[0-9a-f]{10}$`).MatchString(h) || SettingsHash(s) != h {
		t.Errorf("SettingsHash = %q: want 10 lowercase hex digits, the same every call", h)
	}
	// Pinned: a change here changes the label of every pod, and every workload injected
	// before looks changed to the re-bootstrap controller. Bump settingsEncoding only on
	// purpose.
	if want := "a23da21ac8"; h != want {
		t.Errorf("SettingsHash of the defaults for bookbuyer = %s, pinned %s", h, want)
	}
}
