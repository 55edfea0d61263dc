package check

import (
	"fmt"
	"io"
	"strings"
)

// Status is the outcome of one check.
type Status int

// The outcomes, from best to worst.
const (
	Pass Status = iota
	Skip
	Warn
	Fail
)

func (s Status) String() string {
	switch s {
	case Pass:
		return "PASS"
	case Skip:
		return "SKIP"
	case Warn:
		return "WARN"
	case Fail:
		return "FAIL"
	}
	return "????"
}

// Result is what one check found.
type Result struct {
	// Step numbers the check (1..8, in the order of Checks).
	Step int
	// Title names the check, e.g. "tracing enabled".
	Title  string
	Status Status
	// Message says what was found; Hint what to do about it (for WARN, FAIL and SKIP).
	Message string
	Hint    string
	// Details are extra lines (events, pod names).
	Details []string
}

// Format renders a result as the CLI prints it:
//
//	[FAIL] 1. tracing enabled: MeshConfig osm-system/osm-mesh-config has tracing disabled
//	       hint: kubectl patch meshconfig ...
func Format(r Result) string {
	var b strings.Builder
	fmt.Fprintf(&b, "[%s] %d. %s: %s\n", r.Status, r.Step, r.Title, r.Message)
	const indent = "       "
	for _, d := range r.Details {
		b.WriteString(indent + "- " + d + "\n")
	}
	if r.Hint != "" && r.Status != Pass {
		b.WriteString(indent + "hint: " + r.Hint + "\n")
	}
	return b.String()
}

// Summary counts the results by status.
type Summary struct {
	Total, Passed, Warned, Failed, Skipped int
}

// Add counts r.
func (s *Summary) Add(r Result) {
	s.Total++
	switch r.Status {
	case Pass:
		s.Passed++
	case Warn:
		s.Warned++
	case Fail:
		s.Failed++
	case Skip:
		s.Skipped++
	}
}

func (s Summary) String() string {
	return fmt.Sprintf("%d checks: %d passed, %d failed, %d warnings, %d skipped",
		s.Total, s.Passed, s.Failed, s.Warned, s.Skipped)
}

// Printer prints results as they come and counts them.
type Printer struct {
	Out     io.Writer
	Summary Summary
}

// Print prints and counts r.
func (p *Printer) Print(r Result) {
	p.Summary.Add(r)
	fmt.Fprint(p.Out, Format(r))
}

// limit keeps at most n lines, ending with "... and K more".
func limit(lines []string, n int) []string {
	if len(lines) <= n {
		return lines
	}
	return append(lines[:n:n], fmt.Sprintf("... and %d more", len(lines)-n))
}

// count is "1 pod", "2 pods".
func count(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
