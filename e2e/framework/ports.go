package framework

import (
	"fmt"
	"net"
	"strconv"
	"sync"
)

// loopbackHost is the only address the framework listens on or connects to.
const loopbackHost = "127.0.0.1"

var (
	portsMu sync.Mutex
	// portsGiven remembers ports handed out in this process, so two clusters started at once
	// never get the same port between its probe and its use.
	portsGiven = map[int]bool{}
)

// FreePort returns a TCP port on 127.0.0.1 that is free now and was not returned before in
// this process.
func FreePort() (int, error) {
	portsMu.Lock()
	defer portsMu.Unlock()
	for range 100 {
		l, err := net.Listen("tcp", net.JoinHostPort(loopbackHost, "0"))
		if err != nil {
			return 0, fmt.Errorf("when finding a free loopback port: %w", err)
		}
		addr, ok := l.Addr().(*net.TCPAddr)
		if !ok {
			_ = l.Close()
			return 0, fmt.Errorf("when finding a free loopback port: unexpected address %v", l.Addr())
		}
		port := addr.Port
		if err := l.Close(); err != nil {
			return 0, fmt.Errorf("when releasing probe port %d: %w", port, err)
		}
		if !portsGiven[port] {
			portsGiven[port] = true
			return port, nil
		}
	}
	return 0, fmt.Errorf("when finding a free loopback port: no new port after 100 tries")
}

// freePorts returns n distinct free loopback ports.
func freePorts(n int) ([]int, error) {
	ports := make([]int, 0, n)
	for range n {
		p, err := FreePort()
		if err != nil {
			return nil, err
		}
		ports = append(ports, p)
	}
	return ports, nil
}

// hostPort is "127.0.0.1:port".
func hostPort(port int) string {
	return net.JoinHostPort(loopbackHost, strconv.Itoa(port))
}
