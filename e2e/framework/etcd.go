package framework

import (
	"fmt"
	"path/filepath"
)

// startEtcd runs a single-member etcd on two free loopback ports and returns its client URL.
// kube-apiserver retries etcd until it answers, so there is no separate wait here.
func startEtcd(r *runner, bins Binaries) (string, error) {
	ports, err := freePorts(2)
	if err != nil {
		return "", err
	}
	clientURL := "http://" + hostPort(ports[0])
	peerURL := "http://" + hostPort(ports[1])
	args := []string{
		"--name=default",
		"--data-dir=" + filepath.Join(r.dir, "etcd-data"),
		"--listen-client-urls=" + clientURL,
		"--advertise-client-urls=" + clientURL,
		"--listen-peer-urls=" + peerURL,
		"--initial-advertise-peer-urls=" + peerURL,
		"--initial-cluster=default=" + peerURL,
		"--initial-cluster-state=new",
		// A test cluster lives seconds; durability is not worth the fsync latency.
		"--unsafe-no-fsync=true",
		"--log-level=warn",
	}
	if _, err := r.start("etcd", bins.Etcd, args); err != nil {
		return "", fmt.Errorf("when starting etcd: %w", err)
	}
	return clientURL, nil
}
