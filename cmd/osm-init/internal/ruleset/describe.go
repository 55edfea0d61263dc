package ruleset

import (
	"fmt"
	"strconv"
	"strings"
)

// Describe sums up what a table redirects, in one line, read from its rules (not from the
// Spec they came from, so that the line cannot say more than the rules do):
//
//	IPv4 traffic redirected to Envoy: inbound TCP to 15003 except to ports 15021,15000,15090;
//	outbound TCP to 15001 except from uid 1500, through lo, to 127.0.0.1
//
// (on one line). osm-init prints it once the table is installed; the real-node tests look
// for its first words.
func Describe(t Table) string {
	parts := make([]string, 0, len(t.Chains))
	for _, c := range t.Chains {
		parts = append(parts, describeChain(c, t.Family))
	}
	return fmt.Sprintf("%s traffic redirected to Envoy: %s", t.Family, strings.Join(parts, "; "))
}

func describeChain(c Chain, f Family) string {
	direction := "inbound"
	if c.Hook == Output {
		direction = "outbound"
	}
	var port uint16
	var only, except, ports []string
	for _, r := range c.Rules {
		switch v := r.Verdict.(type) {
		case Redirect:
			port = v.Port
			for _, m := range r.Matches {
				if d, ok := m.(DAddr); ok {
					only = append(only, d.text())
				}
			}
		case Return:
			for _, m := range r.Matches {
				switch m := m.(type) {
				case DPort:
					ports = append(ports, strconv.Itoa(int(m)))
				case SKUID:
					except = append(except, "from uid "+strconv.FormatUint(uint64(m), 10))
				case OIFName:
					except = append(except, "through "+string(m))
				case DAddr:
					except = append(except, "to "+m.text())
				}
			}
		}
	}
	if port == 0 {
		return fmt.Sprintf("%s TCP not redirected (the outbound inclusions have no %s range)", direction, f)
	}
	if len(ports) > 0 {
		except = append(except, "to ports "+strings.Join(ports, ","))
	}
	s := fmt.Sprintf("%s TCP to %d", direction, port)
	if len(only) > 0 {
		s += " only to " + strings.Join(only, ",") + " and"
	}
	if len(except) > 0 {
		s += " except " + strings.Join(except, ", ")
	}
	return s
}
