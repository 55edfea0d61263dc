package app

import (
	"fmt"
	"strings"

	"github.com/osm-tracing/osm-tracing/webhook/inject"
)

// trafficList is one of the comma-separated redirect flags (--outbound-port-exclusion-list
// and the like): the mesh-wide lists the pod and namespace annotations of the same names add to.
type trafficList struct {
	flag  string
	value string
	// parse is inject.ParsePortList or inject.ParseCIDRList, the annotations' own parsers, so
	// the flags accept exactly what the annotations accept.
	parse func(string) error
}

func (o *Options) trafficLists() []trafficList {
	ports := func(s string) error { _, err := inject.ParsePortList(s); return err }
	cidrs := func(s string) error { _, err := inject.ParseCIDRList(s); return err }
	return []trafficList{
		{"outbound-port-exclusion-list", o.OutboundPortExclusionList, ports},
		{"inbound-port-exclusion-list", o.InboundPortExclusionList, ports},
		{"outbound-ip-range-exclusion-list", o.OutboundIPRangeExclusionList, cidrs},
		{"outbound-ip-range-inclusion-list", o.OutboundIPRangeInclusionList, cidrs},
	}
}

// check returns nil when the value parses, else an error with the value, the first item that
// does not parse and the accepted form.
func (l trafficList) check() error {
	err := l.parse(l.value)
	if err == nil {
		return nil
	}
	for item := range strings.SplitSeq(l.value, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			return fmt.Errorf("%q has an empty item: %w", l.value, err)
		}
		if l.parse(item) != nil {
			return fmt.Errorf("%q: %q is not accepted: %w", l.value, item, err)
		}
	}
	return fmt.Errorf("%q: %w", l.value, err)
}
