package report

import (
	"fmt"
	"strings"

	"github.com/proxysizer/proxysizer/charts"
)

// Markdown is report.md: the summary a team pastes into a capacity-planning
// document or a pull request. Text from the results directory is escaped so
// that it renders as text (no HTML, no broken tables).
func Markdown(in Input) string {
	s := charts.Summarize(in.page())
	var b strings.Builder
	p := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	p("# Sidecar sizing report: %s\n\n", md(s.Proxy))
	p("Proxy version: %s. %s backend, sweep %s (%d of %d steps), started %s.\n\n", md(s.ProxyVersion), md(s.Backend), md(s.Status), s.StepsDone, s.StepsTotal, s.StartedAt)
	if s.NotFitted != "" {
		p("> **Not fitted:** %s. The steps below are the measurements; there are no fits and no recommendation.\n\n", md(s.NotFitted))
	}
	for _, w := range s.Warnings {
		p("> warning: %s\n\n", md(w))
	}

	p("## Recommendation\n\n")
	if c := s.Card; c == nil {
		p("None: the sweep could not be fitted.\n\n")
	} else {
		p("For %s", md(c.Target))
		if c.TargetNote != "" {
			p(" (%s)", md(c.TargetNote))
		}
		p(":\n\n")
		if c.Chosen != "" {
			p("- **Chosen:** %s. %s\n", md(c.Chosen), md(c.ChosenWhy))
			if c.RunnerUp != "" {
				p("- **Runner-up:** %s. %s\n", md(c.RunnerUp), md(c.RunnerWhy))
			}
		} else {
			p("- **No setting meets the target:** %s\n", md(c.NoneMeets))
		}
		for _, r := range c.NotChosen {
			p("- not chosen: %s\n", md(r))
		}
		if len(c.Annotation) > 0 {
			p("\nPod annotations:\n\n```yaml\n")
			for _, a := range c.Annotation {
				p("%s: %q\n", a.Label, a.Value)
			}
			p("```\n")
		}
		if c.PlanCmd != "" {
			p("\nSize with the fitted profile:\n\n```sh\n%s\n```\n", c.PlanCmd)
		}
		p("\n")
	}

	p("## Environment and grid\n\n| | |\n|---|---|\n")
	for _, f := range append(append([]charts.Fact{}, s.Environment...), s.Grid...) {
		p("| %s | %s |\n", md(f.Label), md(f.Value))
	}
	p("\n")

	if len(s.Fits) > 0 {
		p("## CPU fits\n\nProxy cores = idle + cores per 1000 RPS x sidecar RPS / 1000, least squares over each setting's valid steps; ± is the 95%% confidence interval; the leave-one-rate-out error predicts each rate from the others.\n\n")
		p("| setting | points | idle cores | cores / 1000 RPS | R² | LOO max error | max sidecar RPS | throttled from | memory |\n|---|---|---|---|---|---|---|---|---|\n")
		for _, f := range s.Fits {
			if f.Skipped != "" {
				p("| %s | not fitted: %s | | | | | %s | %s | %s |\n", md(f.Setting), md(f.Skipped), f.MaxSidecarRPS, f.ThrottledFrom, f.Memory)
				continue
			}
			p("| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", md(f.Setting), f.Points, f.IdleCores, f.CoresPerKRPS, f.R2, f.LOO, f.MaxSidecarRPS, f.ThrottledFrom, f.Memory)
		}
		if o := s.Overall; o != nil {
			p("| **%s** | %s | %s | %s | %s | %s | | | |\n", o.Setting, o.Points, o.IdleCores, o.CoresPerKRPS, o.R2, o.LOO)
		}
		p("\nMaximum sidecar RPS basis per setting:\n\n")
		for _, f := range s.Fits {
			p("- %s: %s (%s)\n", md(f.Setting), f.MaxSidecarRPS, md(f.MaxBasis))
		}
		p("\nMemory: %s.\n\n", md(s.Memory))
	}

	if len(s.Comparisons) > 0 {
		p("## Against Istio's published sidecar figures\n\nThese measurements describe %s.\n\n| reference profile | Istio versions | published cores / 1000 RPS | measured / published |\n|---|---|---|---|\n", md(s.Proxy))
		for _, c := range s.Comparisons {
			p("| %s | %s | %s | %s |\n", md(c.Profile), md(c.IstioVersions), c.Published, c.Ratio)
		}
		p("\n")
	}

	p("## Steps\n\n| # | setting | status | inbound RPS (req / actual) | sidecar RPS | proxy cores | throttled | working set | p50 ms | p99 ms | p99 added ms |\n|---|---|---|---|---|---|---|---|---|---|---|\n")
	for _, st := range charts.FinishedSteps(in.Sweep) {
		added := "-"
		if st.LatencyAddedMs != nil {
			added = fmt.Sprintf("%.2f", st.LatencyAddedMs.P99)
		}
		status := st.Status
		if st.Reason != "" {
			status += ": " + st.Reason
		}
		p("| %d | %s | %s | %g / %.1f | %.0f | %.3f | %.1f%% | %.1f MiB | %.2f | %.2f | %s |\n", st.Index,
			md(charts.SettingLabel(st.Setting)), md(status),
			st.RequestedRPS, st.ActualRPS, st.SidecarRPS, st.ProxyCPUCores, st.ThrottledRatio*100, float64(st.MemoryWorkingSetBytes)/(1<<20),
			st.LatencyMs.P50, st.LatencyMs.P99, added)
	}
	p("\nAll fields per step: `steps.csv`. Charts: `report.html`. fortio results: `fortio report -data-dir fortio/`. SMP: `smp.json`.\n\n")
	p("## Reproduce\n\n```sh\n%s\n```\n", s.Reproduce)
	return b.String()
}

var mdEscaper = strings.NewReplacer(
	"&", "&amp;", "<", "&lt;", ">", "&gt;", "|", `\|`, "`", "\\`", "*", `\*`, "_", `\_`, "[", `\[`, "]", `\]`, "\n", " ", "\r", " ",
)

// md escapes text for Markdown: HTML stays text and a pipe cannot split a
// table cell.
func md(s string) string { return mdEscaper.Replace(s) }
