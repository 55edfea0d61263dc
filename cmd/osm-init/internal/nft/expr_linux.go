//go:build linux

package nft

import (
	"fmt"
	"net/netip"

	"github.com/google/nftables"
	"github.com/google/nftables/binaryutil"
	"github.com/google/nftables/expr"
	"golang.org/x/sys/unix"

	"github.com/osm-tracing/osm-tracing/cmd/osm-init/internal/ruleset"
)

// The expressions below are the ones nft itself compiles each match and verdict of
// ruleset's text into (nft --debug=netlink shows them), so that `nft list ruleset` prints
// our rules exactly as ruleset writes them; the kernel test compares the two.

// family is the nf_tables family of a table.
func family(f ruleset.Family) nftables.TableFamily {
	if f == ruleset.IPv6 {
		return nftables.TableFamilyIPv6
	}
	return nftables.TableFamilyIPv4
}

// ruleExprs are the expressions of one rule: its matches in order, then its verdict. Every
// value is loaded into register 1 and compared there.
func ruleExprs(r ruleset.Rule) ([]expr.Any, error) {
	var out []expr.Any
	for _, m := range r.Matches {
		es, err := matchExprs(m)
		if err != nil {
			return nil, err
		}
		out = append(out, es...)
	}
	switch v := r.Verdict.(type) {
	case ruleset.Return:
		out = append(out, &expr.Verdict{Kind: expr.VerdictReturn})
	case ruleset.Redirect:
		// The port goes into a register and redir takes it from there; the flag says that
		// a port is given, as nft sets it.
		out = append(out,
			&expr.Immediate{Register: 1, Data: binaryutil.BigEndian.PutUint16(v.Port)},
			&expr.Redir{RegisterProtoMin: 1, Flags: unix.NF_NAT_RANGE_PROTO_SPECIFIED})
	default:
		return nil, fmt.Errorf("rule %q: no netlink form for the verdict %T", r, r.Verdict)
	}
	return out, nil
}

func matchExprs(m ruleset.Match) ([]expr.Any, error) {
	switch m := m.(type) {
	case ruleset.TCP:
		return l4proto(expr.CmpOpEq), nil
	case ruleset.NotTCP:
		return l4proto(expr.CmpOpNeq), nil
	case ruleset.DPort:
		// The destination port is at offset 2 of the TCP header; the protocol is checked
		// first, or another protocol's bytes there would match.
		return append(l4proto(expr.CmpOpEq),
			&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseTransportHeader, Offset: 2, Len: 2},
			&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: binaryutil.BigEndian.PutUint16(uint16(m))}), nil
	case ruleset.SKUID:
		// The socket's uid is compared in the machine's byte order, as the kernel stores it.
		return []expr.Any{
			&expr.Meta{Key: expr.MetaKeySKUID, Register: 1},
			&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: binaryutil.NativeEndian.PutUint32(uint32(m))},
		}, nil
	case ruleset.OIFName:
		// An interface name is compared as the kernel's IFNAMSIZ buffer: the name, then
		// zeros, so that "lo" does not match "lo0".
		name := make([]byte, unix.IFNAMSIZ)
		if len(m) >= unix.IFNAMSIZ {
			return nil, fmt.Errorf("interface name %q is longer than %d bytes", string(m), unix.IFNAMSIZ-1)
		}
		copy(name, m)
		return []expr.Any{
			&expr.Meta{Key: expr.MetaKeyOIFNAME, Register: 1},
			&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: name},
		}, nil
	case ruleset.DAddr:
		return daddrExprs(netip.Prefix(m)), nil
	}
	return nil, fmt.Errorf("no netlink form for the match %T", m)
}

func l4proto(op expr.CmpOp) []expr.Any {
	return []expr.Any{
		&expr.Meta{Key: expr.MetaKeyL4PROTO, Register: 1},
		&expr.Cmp{Op: op, Register: 1, Data: []byte{unix.IPPROTO_TCP}},
	}
}

// daddrExprs match the destination address against p. A prefix of whole bytes compares
// just those bytes of the address; any other length loads the whole address and masks it
// first (as nft does, /0 included).
func daddrExprs(p netip.Prefix) []expr.Any {
	p = p.Masked()
	offset := uint32(16) // the destination address in the IPv4 header
	if p.Addr().Is6() {
		offset = 24 // and in the IPv6 header
	}
	addr := p.Addr().AsSlice()
	bits := p.Bits()
	if bits > 0 && bits%8 == 0 {
		n := bits / 8
		return []expr.Any{
			&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: offset, Len: uint32(n)}, //nolint:gosec // G115: at most 16.
			&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: addr[:n]},
		}
	}
	mask := make([]byte, len(addr))
	for i := range mask {
		switch rest := bits - 8*i; {
		case rest >= 8:
			mask[i] = 0xff
		case rest > 0:
			mask[i] = ^byte(0xff >> rest) // the top rest bits
		}
	}
	return []expr.Any{
		&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: offset, Len: uint32(len(addr))},         //nolint:gosec // G115: 4 or 16.
		&expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: uint32(len(addr)), Mask: mask, Xor: make([]byte, len(addr))}, //nolint:gosec // G115: 4 or 16.
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: addr},
	}
}
