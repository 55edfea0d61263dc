package framework

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/net/dns/dnsmessage"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
)

// dnsTTL is the time to live of the answers: short, as Services come and go within a test.
const dnsTTL = 5

// dnsServer stands in for CoreDNS on the real node: it answers, on NodeIP port 53 (UDP and
// TCP), the A and AAAA questions for NAME.NAMESPACE.svc.cluster.local with the ClusterIPs of
// the Service, read from an informer, and NXDOMAIN for any other name. It never forwards a
// question: the Pods' DNS reaches nothing off the machine. Headless and ExternalName
// Services have no addresses here (an empty answer).
//
// The Pods' resolver expands the search list (NAMESPACE.svc.cluster.local, svc.cluster.local,
// cluster.local; ndots 5), so "jaeger.osm-system" and "jaeger.osm-system.svc" reach the
// server as the full name.
type dnsServer struct {
	services corelisters.ServiceLister
	udp      net.PacketConn
	tcp      net.Listener
	stopCh   chan struct{}
	wg       sync.WaitGroup
	once     sync.Once
	logf     func(string, ...any)

	// Counts for the log line at stop: questions answered, of them NXDOMAIN, and replies
	// that could not be sent or questions that could not be parsed.
	answered, nxdomain, failed atomic.Int64
}

// startDNS starts the informer and the listeners.
func startDNS(ctx context.Context, cs kubernetes.Interface, logf func(string, ...any)) (*dnsServer, error) {
	began := time.Now()
	s := &dnsServer{stopCh: make(chan struct{}), logf: logf}
	factory := informers.NewSharedInformerFactory(cs, 0)
	s.services = factory.Core().V1().Services().Lister()
	factory.Start(s.stopCh)
	for typ, ok := range factory.WaitForCacheSync(ctx.Done()) {
		if !ok {
			close(s.stopCh)
			return nil, fmt.Errorf("when starting the DNS server: the %v informer did not sync", typ)
		}
	}
	addr := net.JoinHostPort(NodeIP, "53")
	var err error
	if s.udp, err = net.ListenPacket("udp", addr); err != nil {
		close(s.stopCh)
		return nil, fmt.Errorf("when starting the DNS server on udp %s: %w", addr, err)
	}
	if s.tcp, err = net.Listen("tcp", addr); err != nil {
		_ = s.udp.Close()
		close(s.stopCh)
		return nil, fmt.Errorf("when starting the DNS server on tcp %s: %w", addr, err)
	}
	s.wg.Add(2)
	go s.serveUDP()
	go s.serveTCP()
	logf("framework: DNS server (stand-in for CoreDNS) on %s, udp and tcp, in %s", addr,
		time.Since(began).Round(time.Millisecond))
	return s, nil
}

// stop closes the listeners and the informer and waits for the serving goroutines.
func (s *dnsServer) stop() {
	if s == nil {
		return
	}
	s.once.Do(func() {
		close(s.stopCh)
		_ = s.udp.Close()
		_ = s.tcp.Close()
		s.wg.Wait()
		s.logf("framework: the DNS server answered %d question(s), %d of them NXDOMAIN; %d failed",
			s.answered.Load(), s.nxdomain.Load(), s.failed.Load())
	})
}

func (s *dnsServer) serveUDP() {
	defer s.wg.Done()
	buf := make([]byte, 1500)
	for {
		n, from, err := s.udp.ReadFrom(buf)
		if err != nil {
			return // closed
		}
		resp, err := s.answer(buf[:n])
		if err == nil {
			_, err = s.udp.WriteTo(resp, from)
		}
		if err != nil {
			s.failed.Add(1)
			s.logf("framework: DNS server: a question from %v: %v", from, err)
		}
	}
}

func (s *dnsServer) serveTCP() {
	defer s.wg.Done()
	for {
		conn, err := s.tcp.Accept()
		if err != nil {
			return // closed
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.serveConn(conn)
		}()
	}
}

// serveConn answers the length-prefixed messages of one TCP connection.
func (s *dnsServer) serveConn(conn net.Conn) {
	defer conn.Close()
	go func() {
		// A connection ends when the server stops, not only when the client closes it.
		<-s.stopCh
		_ = conn.Close()
	}()
	for {
		_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
		var size uint16
		if err := binary.Read(conn, binary.BigEndian, &size); err != nil {
			return
		}
		msg := make([]byte, size)
		if _, err := io.ReadFull(conn, msg); err != nil {
			return
		}
		resp, err := s.answer(msg)
		if err != nil {
			return
		}
		out := binary.BigEndian.AppendUint16(nil, uint16(len(resp)))
		if _, err := conn.Write(append(out, resp...)); err != nil {
			return
		}
	}
}

// answer is the response to one query.
func (s *dnsServer) answer(query []byte) ([]byte, error) {
	var p dnsmessage.Parser
	h, err := p.Start(query)
	if err != nil {
		return nil, err
	}
	q, err := p.Question()
	if err != nil {
		return nil, err
	}
	addrs, rcode := s.lookup(q.Name.String(), q.Type)
	s.answered.Add(1)
	if rcode == dnsmessage.RCodeNameError {
		s.nxdomain.Add(1)
	}
	b := dnsmessage.NewBuilder(nil, dnsmessage.Header{
		ID: h.ID, Response: true, Authoritative: true, RecursionDesired: h.RecursionDesired, RCode: rcode,
	})
	b.EnableCompression()
	if err := b.StartQuestions(); err != nil {
		return nil, err
	}
	if err := b.Question(q); err != nil {
		return nil, err
	}
	if err := b.StartAnswers(); err != nil {
		return nil, err
	}
	rh := dnsmessage.ResourceHeader{Name: q.Name, Class: dnsmessage.ClassINET, TTL: dnsTTL}
	for _, a := range addrs {
		if a.Is4() {
			err = b.AResource(rh, dnsmessage.AResource{A: a.As4()})
		} else {
			err = b.AAAAResource(rh, dnsmessage.AAAAResource{AAAA: a.As16()})
		}
		if err != nil {
			return nil, err
		}
	}
	return b.Finish()
}

// lookup is the addresses of the Service a name stands for, of the question's type, or
// NXDOMAIN for a name that is no Service's.
func (s *dnsServer) lookup(name string, typ dnsmessage.Type) ([]netip.Addr, dnsmessage.RCode) {
	name = strings.TrimSuffix(strings.ToLower(name), ".")
	rest, ok := strings.CutSuffix(name, ".svc."+ClusterDomain)
	if !ok {
		return nil, dnsmessage.RCodeNameError
	}
	svcName, namespace, ok := strings.Cut(rest, ".")
	if !ok || strings.Contains(namespace, ".") {
		return nil, dnsmessage.RCodeNameError
	}
	svc, err := s.services.Services(namespace).Get(svcName)
	if apierrors.IsNotFound(err) {
		return nil, dnsmessage.RCodeNameError
	}
	if err != nil {
		return nil, dnsmessage.RCodeServerFailure
	}
	return serviceAddrs(svc, typ), dnsmessage.RCodeSuccess
}

// serviceAddrs is the ClusterIPs of the Service of the family the question asks for.
func serviceAddrs(svc *corev1.Service, typ dnsmessage.Type) []netip.Addr {
	var out []netip.Addr
	for _, ip := range svc.Spec.ClusterIPs {
		a, err := netip.ParseAddr(ip)
		if err != nil {
			continue // "None": headless
		}
		if (typ == dnsmessage.TypeA && a.Is4()) || (typ == dnsmessage.TypeAAAA && a.Is6()) {
			out = append(out, a)
		}
	}
	return out
}
