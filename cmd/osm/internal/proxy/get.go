package proxy

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/osm-tracing/osm-tracing/bootstrap"
	"github.com/osm-tracing/osm-tracing/cmd/osm/internal/kube"
)

// RequestTimeout bounds one admin request.
const RequestTimeout = time.Minute

// maxBody bounds what an admin answer may hold (config_dump of a big mesh is a few MB).
const maxBody = 256 << 20

// Get fetches an Envoy admin path of pod ns/name through a port-forward to the admin port and
// returns the answer's body.
func Get(ctx context.Context, c *kube.Clients, ns, name, query string) ([]byte, error) {
	path, err := AdminPath(query)
	if err != nil {
		return nil, err
	}
	pod, err := c.Kube.CoreV1().Pods(ns).Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, fmt.Errorf("pod %s not found in namespace %s (kubectl get pods -n %s)", name, ns, ns)
	}
	if err != nil {
		return nil, fmt.Errorf("when getting pod %s/%s: %w", ns, name, err)
	}
	if err := CheckAdminReachable(pod); err != nil {
		return nil, err
	}
	fw, err := kube.ForwardPort(ctx, c.Config, c.Kube, ns, name, bootstrap.AdminPort)
	if err != nil {
		return nil, err
	}
	defer fw.Close()
	body, err := fetch(ctx, "http://"+fw.Addr+path)
	if err != nil {
		if p := fw.Problems(); p != "" {
			err = fmt.Errorf("%w (port-forward: %s)", err, p)
		}
		return nil, fmt.Errorf("when reading %s from Envoy's admin (port %d) in pod %s/%s: %w",
			path, bootstrap.AdminPort, ns, name, err)
	}
	return body, nil
}

func fetch(ctx context.Context, url string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, RequestTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return nil, fmt.Errorf("when reading the answer: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("the admin interface answered %s: %s", resp.Status, snippet(body))
	}
	return body, nil
}

func snippet(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) > 300 {
		s = s[:300] + "..."
	}
	return s
}
