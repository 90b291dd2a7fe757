package report

import (
	"fmt"
	"strings"

	"github.com/proxysizer/proxysizer/charts"
	"github.com/proxysizer/proxysizer/results"
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
	if s.StandIn != "" {
		p("> **Stand-in:** %s\n\n", md(s.StandIn))
	}
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
			p("- **CPU request:** %s\n", md(c.Request))
			p("- **Workers:** %s\n", md(c.DefaultWorkers))
			if c.RunnerUp != "" {
				p("- **Runner-up:** %s. %s\n", md(c.RunnerUp), md(c.RunnerWhy))
			}
			if len(c.Indistinguishable) > 1 {
				p("- **Indistinguishable at the peak** (their 95%% intervals overlap; %s):\n", md(c.TieRule))
				for _, i := range c.Indistinguishable {
					p("  - %s\n", md(i))
				}
			}
		} else {
			p("- **No setting meets the target:** %s\n", md(c.NoneMeets))
		}
		for _, r := range c.NotChosen {
			p("- not chosen: %s\n", md(r))
		}
		if len(c.Annotation) > 0 {
			p("\nPod annotations (%s):\n\n```yaml\n", md(c.AnnotationHeading))
			p("# %s\n", c.AnnotationNote)
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
		p("## CPU curves\n\nProxy cores against sidecar RPS, per setting: the line idle + c x RPS/1000 and the concave idle + a x (RPS/1000)^b, least squares with the idle cost held at 0 or above (± is the coefficient's 95%% confidence interval). Each model predicts every rate from the others (leave-one-rate-out); the one with the smaller largest error is chosen.\n\n")
		p("| setting | points | line | line held-out error | concave | concave held-out error | chosen |\n|---|---|---|---|---|---|---|\n")
		for _, f := range s.Fits {
			if f.Skipped != "" {
				p("| %s | not fitted: %s | | | | | |\n", md(f.Setting), md(f.Skipped))
				continue
			}
			p("| %s | %s | %s | %s | %s | %s | %s: %s |\n", md(f.Setting), f.Points, md(f.Line), f.LineLOO, md(f.Concave), f.ConcaveLOO, f.Chosen, md(f.ChosenWhy))
		}
		if o := s.Overall; o != nil {
			p("| **%s** | %s | %s | %s | %s | %s | %s |\n", o.Setting, o.Points, md(o.Line), o.LineLOO, md(o.Concave), o.ConcaveLOO, o.Chosen)
		}
		p("\n## Capacity and workers\n\nA capacity is a max-throughput search's result, or a lower bound: the most a valid step carried, the true maximum not measured.\n\n")
		p("| setting | capacity (sidecar RPS) | basis | throttled from | %s | without the concurrency annotation |\n|---|---|---|---|---|---|\n", md(workingSetHeader(s)))
		for _, f := range s.Fits {
			p("| %s | %s | %s | %s | %s | %s |\n", md(f.Setting), md(f.Capacity), md(f.CapacityBasis), f.ThrottledFrom, f.WorkingSet, md(f.DefaultWorkers))
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

	p("## Steps\n\nLatency added is the step's p99 less the baseline's at the nearest rate, timed from the actual send (service time) and from the intended send time (free of coordinated omission); - where not recorded.\n\n")
	p("| # | setting | status | inbound RPS (req / actual) | sidecar RPS | req / inbound | proxy cores | throttled | working set | p50 ms | p99 ms | p99 added ms (service / intended) |\n|---|---|---|---|---|---|---|---|---|---|---|---|\n")
	for _, st := range charts.FinishedSteps(in.Sweep) {
		added := latencyAdded(st.LatencyAddedMs) + " / " + latencyAdded(st.IntendedLatencyAddedMs)
		status := st.Status
		if st.Reason != "" {
			status += ": " + st.Reason
		}
		p("| %d | %s | %s | %g / %.1f | %.0f | %.3f | %.3f | %.1f%% | %.1f MiB | %.2f | %.2f | %s |\n", st.Index,
			md(charts.SettingLabel(st.Setting)), md(status),
			st.RequestedRPS, st.ActualRPS, st.SidecarRPS, st.ProxyRequestsPerInbound, st.ProxyCPUCores, st.ThrottledRatio*100, float64(st.MemoryWorkingSetBytes)/(1<<20),
			st.LatencyMs.P50, st.LatencyMs.P99, added)
	}
	p("\nAll fields per step: `steps.csv`. Charts: `report.html`. fortio results: `fortio report -data-dir fortio/`. SMP: `smp.json`.\n\n")
	p("## Reproduce\n\n```sh\n%s\n```\n", s.Reproduce)
	return b.String()
}

func latencyAdded(l *results.Latency) string {
	if l == nil {
		return "-"
	}
	return fmt.Sprintf("%.2f", l.P99)
}

// workingSetHeader names the working set column after what it describes.
func workingSetHeader(s charts.Summary) string {
	if s.StandIn != "" {
		return "working set (the stand-in's, not Envoy's)"
	}
	return "working set"
}

var mdEscaper = strings.NewReplacer(
	"&", "&amp;", "<", "&lt;", ">", "&gt;", "|", `\|`, "`", "\\`", "*", `\*`, "_", `\_`, "[", `\[`, "]", `\]`, "\n", " ", "\r", " ",
)

// md escapes text for Markdown: HTML stays text and a pipe cannot split a
// table cell.
func md(s string) string { return mdEscaper.Replace(s) }
