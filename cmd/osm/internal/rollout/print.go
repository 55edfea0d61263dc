package rollout

import (
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"
)

// PrintPreview writes p as plain text: a table of the workloads (in rollout order), the order
// rollouts would start in with the bound on concurrent rollouts and where it was read, and
// the bare pods that would be stale. Nothing in it depends on map order.
func PrintPreview(w io.Writer, p *Preview) error {
	fmt.Fprintf(w, "MeshConfig %s: tracing target %s -> %s", p.MeshConfig, orNone(p.TargetBefore), p.TargetAfter)
	if p.RollOutdated {
		fmt.Fprint(w, " (spec.rebootstrap.onUpgrade: outdated workloads roll too)")
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w)
	if len(p.Workloads) == 0 {
		fmt.Fprintln(w, "no injected workload")
	} else {
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "NAMESPACE\tKIND\tNAME\tVERDICT\tREASON")
		for _, r := range p.Workloads {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.Namespace, r.Kind, r.Name, r.Verdict, r.Reason)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "At most %d rollouts at once (%s).\n", p.Concurrency.Max, p.Concurrency.Source)
	switch {
	case len(p.Order) == 0:
		fmt.Fprintln(w, "Nothing would roll.")
	case p.Paused != "":
		fmt.Fprintf(w, "Paused: %s. Then rollouts would start in this order:\n", p.Paused)
	default:
		fmt.Fprintf(w, "Rollouts would start in this order (the first %d at once, then one as each completes):\n", p.FirstBatch)
	}
	for i, ref := range p.Order {
		fmt.Fprintf(w, "  %d. %s\n", i+1, ref)
	}
	if len(p.BarePods) > 0 {
		fmt.Fprintln(w)
		fmt.Fprintln(w, "Bare pods (no Deployment, StatefulSet or DaemonSet owns them; never restarted):")
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "NAMESPACE\tNAME\tSTATE\tREASON")
		for _, r := range p.BarePods {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.Namespace, r.Name, r.Verdict, r.Reason)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	return nil
}

// PrintPreviewJSON writes p as indented JSON.
func PrintPreviewJSON(w io.Writer, p *Preview) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(p); err != nil {
		return fmt.Errorf("when encoding the preview: %w", err)
	}
	return nil
}

func orNone(s string) string {
	if s == "" {
		return "(invalid now)"
	}
	return s
}
