package proxy

import (
	"fmt"
	"net/url"
	"strings"
)

// AdminPath turns the user's QUERY (config_dump, /clusters, stats?format=json, ...) into the
// path and query of an Envoy admin request.
func AdminPath(query string) (string, error) {
	q := strings.TrimSpace(query)
	if q == "" {
		return "", fmt.Errorf("the admin query is empty; give an Envoy admin path such as config_dump, clusters, stats or ready")
	}
	if strings.Contains(q, "://") {
		return "", fmt.Errorf("the admin query %q is a URL; give only the path, such as config_dump or stats?filter=tracing", query)
	}
	if !strings.HasPrefix(q, "/") {
		q = "/" + q
	}
	u, err := url.Parse(q)
	if err != nil {
		return "", fmt.Errorf("the admin query %q is not a valid path: %w", query, err)
	}
	if u.Host != "" || u.Path == "/" || strings.Contains(u.Path, "..") {
		return "", fmt.Errorf("the admin query %q is not an Envoy admin path; try config_dump, clusters, stats or ready", query)
	}
	return u.RequestURI(), nil
}
