// Package manifests embeds the project's Kubernetes manifests so that the osm CLI carries
// them: the Helm chart (installed with the Helm SDK by `osm install`), the CRDs and the demo
// workloads.
package manifests

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io/fs"

	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/ignore"
)

// chartRoot is the chart's folder inside the embedded file system.
const chartRoot = "charts/osm"

// The all: prefix keeps files whose names begin with '_' or '.', such as
// templates/_helpers.tpl and .helmignore.
//
//go:embed all:charts/osm
var chartFiles embed.FS

// crdFiles holds the generated CustomResourceDefinitions (make generate).
//
//go:embed crds/*.yaml
var crdFiles embed.FS

// demoFiles holds the bookstore demo's workloads.
//
//go:embed demo/*.yaml
var demoFiles embed.FS

// ChartFS is the osm Helm chart, rooted at the chart's folder (Chart.yaml is at its top).
var ChartFS = mustSub(chartFiles, chartRoot)

// CRDs holds the CustomResourceDefinitions as crds/<group>_<plural>.yaml.
var CRDs fs.FS = crdFiles

// DemoFS holds the demo's manifests as demo/*.yaml.
var DemoFS fs.FS = demoFiles

// LoadChart loads the embedded chart with Helm's loader, skipping what the chart's .helmignore
// names, as `helm install <folder>` does.
func LoadChart() (*chart.Chart, error) {
	rules, err := helmIgnore(ChartFS)
	if err != nil {
		return nil, err
	}
	var files []*loader.BufferedFile
	err = fs.WalkDir(ChartFS, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || name == "." {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if rules.Ignore(name, info) {
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			return nil
		}
		data, err := fs.ReadFile(ChartFS, name)
		if err != nil {
			return err
		}
		files = append(files, &loader.BufferedFile{Name: name, Data: data})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("when reading the embedded chart: %w", err)
	}
	ch, err := loader.LoadFiles(files)
	if err != nil {
		return nil, fmt.Errorf("when loading the embedded chart: %w", err)
	}
	return ch, nil
}

// helmIgnore parses the chart's .helmignore, if any, plus Helm's default rules.
func helmIgnore(fsys fs.FS) (*ignore.Rules, error) {
	rules := ignore.Empty()
	data, err := fs.ReadFile(fsys, ignore.HelmIgnore)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return nil, fmt.Errorf("when reading the embedded chart's %s: %w", ignore.HelmIgnore, err)
	default:
		if rules, err = ignore.Parse(bytes.NewReader(data)); err != nil {
			return nil, fmt.Errorf("when parsing the embedded chart's %s: %w", ignore.HelmIgnore, err)
		}
	}
	rules.AddDefaults()
	return rules, nil
}

func mustSub(fsys fs.FS, dir string) fs.FS {
	sub, err := fs.Sub(fsys, dir)
	if err != nil {
		// fs.Sub only fails for an invalid path, which a constant is not.
		panic(fmt.Sprintf("manifests: %v", err))
	}
	return sub
}
