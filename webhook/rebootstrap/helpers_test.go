package rebootstrap

import (
	"k8s.io/utils/ptr"

	"github.com/osm-tracing/osm-tracing/bootstrap/api/v1alpha2"
)

func meshSpec(enable bool, address string, port int32) *v1alpha2.ObservabilitySpec {
	return &v1alpha2.ObservabilitySpec{Tracing: v1alpha2.TracingSpec{Enable: ptr.To(enable), Address: address, Port: ptr.To(port)}}
}
