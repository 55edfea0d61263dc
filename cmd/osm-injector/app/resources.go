package app

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// parseResources decodes --envoy-resources: a ResourceRequirements in JSON, strictly (an
// unknown key such as "request" is an error, not silently dropped). Empty means nil: the
// built-in defaults apply.
func parseResources(s string) (*corev1.ResourceRequirements, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	dec := json.NewDecoder(bytes.NewReader([]byte(s)))
	dec.DisallowUnknownFields()
	var r corev1.ResourceRequirements
	if err := dec.Decode(&r); err != nil {
		return nil, fmt.Errorf("want a JSON object with \"requests\" and/or \"limits\" of quantities "+
			"(such as {\"requests\":{\"cpu\":\"50m\"}}): %w", err)
	}
	if dec.More() {
		return nil, errors.New("want one JSON object, found more after it")
	}
	for name, req := range r.Requests {
		if lim, ok := r.Limits[name]; ok && req.Cmp(lim) > 0 {
			return nil, fmt.Errorf("the %s request %s exceeds its limit %s", name, req.String(), lim.String())
		}
	}
	return &r, nil
}
