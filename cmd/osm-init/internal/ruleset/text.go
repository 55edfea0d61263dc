package ruleset

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// Script is the nft script of the transaction osm-init sends for tables: for each table,
// add it (so that deleting it cannot fail), delete it with whatever an earlier run left in
// it, and add it again with its chains and rules. `nft -f` runs a script as one transaction
// too, so piping the output of `osm-init --dry-run` into it installs the same rules.
func Script(tables []Table) string {
	var b strings.Builder
	for _, t := range tables {
		fmt.Fprintf(&b, "add table %s %s\n", t.Family.Keyword(), TableName)
		fmt.Fprintf(&b, "delete table %s %s\n", t.Family.Keyword(), TableName)
		b.WriteString(t.String())
	}
	return b.String()
}

// String is the table in nft's syntax, as `nft list table` prints it (numeric priorities).
func (t Table) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "table %s %s {\n", t.Family.Keyword(), TableName)
	for i, c := range t.Chains {
		if i > 0 {
			b.WriteString("\n")
		}
		fmt.Fprintf(&b, "\tchain %s {\n\t\ttype nat hook %s priority %d; policy accept;\n", c.Name, c.Hook, c.Priority)
		for _, r := range c.Rules {
			fmt.Fprintf(&b, "\t\t%s\n", r)
		}
		b.WriteString("\t}\n")
	}
	b.WriteString("}\n")
	return b.String()
}

// String is the hook's name in nft's syntax.
func (h Hook) String() string {
	if h == Prerouting {
		return "prerouting"
	}
	return "output"
}

// String is the rule in nft's syntax: its matches, then its verdict.
func (r Rule) String() string {
	words := make([]string, 0, len(r.Matches)+1)
	for _, m := range r.Matches {
		words = append(words, matchText(m))
	}
	switch v := r.Verdict.(type) {
	case Return:
		words = append(words, "return")
	case Redirect:
		words = append(words, "redirect to :"+strconv.Itoa(int(v.Port)))
	}
	return strings.Join(words, " ")
}

func matchText(m Match) string {
	switch m := m.(type) {
	case TCP:
		return "meta l4proto tcp"
	case NotTCP:
		return "meta l4proto != tcp"
	case DPort:
		return "tcp dport " + strconv.Itoa(int(m))
	case SKUID:
		return "meta skuid " + strconv.FormatUint(uint64(m), 10)
	case OIFName:
		return "oifname " + strconv.Quote(string(m))
	case DAddr:
		return m.String()
	}
	return fmt.Sprintf("unknown match %T", m)
}

// String is the match in nft's syntax: ip daddr 10.0.0.0/8, ip6 daddr ::1.
func (d DAddr) String() string {
	keyword := IPv6.Keyword()
	if netip.Prefix(d).Addr().Is4() {
		keyword = IPv4.Keyword()
	}
	return keyword + " daddr " + d.text()
}

// text is the range as nft prints it: a single address without its length.
func (d DAddr) text() string {
	if p := netip.Prefix(d); !p.IsSingleIP() {
		return p.String()
	}
	return netip.Prefix(d).Addr().String()
}
