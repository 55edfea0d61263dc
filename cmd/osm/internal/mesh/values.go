package mesh

import (
	"fmt"
	"strings"

	"helm.sh/helm/v3/pkg/cli/values"
	"helm.sh/helm/v3/pkg/getter"
	"helm.sh/helm/v3/pkg/strvals"
)

// Values merges the chart values given on the command line with Helm's own merging
// (helm.sh/helm/v3/pkg/cli/values), so osm install reads them exactly as helm install does:
// the files of --values/-f in order (later files win; "-" is standard input), then every
// --set, --set-string and --set-file (comma lists like a=1,b.c=true; later ones win). Value
// files are read from the local disk only: no getter is given, so URLs are not fetched.
func Values(opts values.Options) (map[string]any, error) {
	vals, err := opts.MergeValues(getter.Providers{})
	if err != nil {
		return nil, explainValues(opts, err)
	}
	return vals, nil
}

// explainValues names the command-line value Helm could not take, and the form it accepts.
// Helm's message names a bad file and a bad key, not the --set argument they came from: each
// argument is parsed again alone (Helm's parser, on an empty map, with no file read) to find
// it. When none fails alone, Helm's message is returned as it is.
func explainValues(opts values.Options, err error) error {
	for _, s := range opts.Values {
		if e := strvals.ParseInto(s, map[string]any{}); e != nil {
			return fmt.Errorf("--set %q: %w (want key=value, e.g. osm.tracing.enable=true; separate several with commas)", s, e)
		}
	}
	for _, s := range opts.StringValues {
		if e := strvals.ParseIntoString(s, map[string]any{}); e != nil {
			return fmt.Errorf("--set-string %q: %w (want key=value, e.g. osm.tracing.address=10.0.0.7; the value stays a string)", s, e)
		}
	}
	noRead := func([]rune) (any, error) { return "", nil }
	for _, s := range opts.FileValues {
		if e := strvals.ParseIntoFile(s, map[string]any{}, noRead); e != nil {
			return fmt.Errorf("--set-file %q: %w (want key=path, the value being the file's content)", s, e)
		}
	}
	var accepted []string
	if len(opts.ValueFiles) > 0 {
		accepted = append(accepted, "--values takes YAML files holding a map of chart values, e.g. osm: {tracing: {enable: true}}")
	}
	if len(opts.FileValues) > 0 {
		accepted = append(accepted, "--set-file takes key=path of a readable file")
	}
	if len(accepted) == 0 {
		return fmt.Errorf("when reading the chart values: %w", err)
	}
	return fmt.Errorf("when reading the chart values: %w (%s)", err, strings.Join(accepted, "; "))
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
