package mesh

import (
	"fmt"
	"os"

	"helm.sh/helm/v3/pkg/strvals"
	"sigs.k8s.io/yaml"
)

// Values merges the chart values given on the command line the way helm does: the files of
// --values/-f in order (later files win), then every --set (comma lists like
// a=1,b.c=true; later ones win).
func Values(files, sets []string) (map[string]any, error) {
	base := map[string]any{}
	for _, f := range files {
		data, err := readValuesFile(f)
		if err != nil {
			return nil, err
		}
		cur := map[string]any{}
		if err := yaml.Unmarshal(data, &cur); err != nil {
			return nil, fmt.Errorf("values file %s is not a YAML map: %w", f, err)
		}
		base = mergeMaps(base, cur)
	}
	for _, s := range sets {
		if err := strvals.ParseInto(s, base); err != nil {
			return nil, fmt.Errorf("--set %q: %w (expected key=value, e.g. osm.tracing.enable=true; "+
				"separate several with commas)", s, err)
		}
	}
	return base, nil
}

func readValuesFile(path string) ([]byte, error) {
	if path == "-" {
		return nil, fmt.Errorf("--values - (stdin) is not supported; give a file")
	}
	data, err := os.ReadFile(path) //nolint:gosec // G304: reading the file the user named is the point
	if err != nil {
		return nil, fmt.Errorf("when reading values file: %w", err)
	}
	return data, nil
}

// mergeMaps merges b into a (b wins), descending into maps present in both, as helm does.
func mergeMaps(a, b map[string]any) map[string]any {
	out := make(map[string]any, len(a))
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		if bm, ok := v.(map[string]any); ok {
			if am, ok := out[k].(map[string]any); ok {
				out[k] = mergeMaps(am, bm)
				continue
			}
		}
		out[k] = v
	}
	return out
}

// lookup returns the value at a dotted path of vals, if any.
func lookup(vals map[string]any, path ...string) (any, bool) {
	var cur any = vals
	for _, p := range path {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		cur, ok = m[p]
		if !ok {
			return nil, false
		}
	}
	return cur, true
}

// setPath sets a value at a dotted path of vals, creating maps on the way.
func setPath(vals map[string]any, value any, path ...string) {
	m := vals
	for _, p := range path[:len(path)-1] {
		next, ok := m[p].(map[string]any)
		if !ok {
			next = map[string]any{}
			m[p] = next
		}
		m = next
	}
	m[path[len(path)-1]] = value
}
