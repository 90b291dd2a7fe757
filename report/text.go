package report

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/proxysizer/proxysizer/analysis"
	"github.com/proxysizer/proxysizer/charts"
	"github.com/proxysizer/proxysizer/fit"
	"github.com/proxysizer/proxysizer/internal/quantity"
	"github.com/proxysizer/proxysizer/sizing"
)

// FitResult is a fit of a sweep as the fit command gives it: the JSON
// contract of `fit --format json`, and the text of its table.
type FitResult struct {
	Report *fit.Report `json:"fit"`
	analysis.Choice
	// Warnings are every warning of the analysis, the fit's and the
	// recommendation's, as every other output shows them.
	Warnings    []string `json:"warnings"`
	ProfileFile string   `json:"profile_file"`
	PlanCommand string   `json:"plan_command,omitempty"`
	in          Input
}

// NewFitResult is the fit of in's analysis, whose profile was written to
// profileFile.
func NewFitResult(in Input, profileFile string) *FitResult {
	warnings := in.Warnings()
	if warnings == nil {
		warnings = []string{}
	}
	return &FitResult{Report: in.Fit, Choice: in.Choice, Warnings: warnings, ProfileFile: profileFile, PlanCommand: in.PlanCommand, in: in}
}

// WriteText prints the fit for a person: each setting's curves and
// capacity, the memory, Istio's published figures beside the measured
// ones, and the recommendation.
func (res *FitResult) WriteText(out io.Writer) error {
	r := res.Report
	fmt.Fprintf(out, "Fit of %s: %s (%s), %s backend; %d of %d steps done; %.2f requests through the proxy per inbound request\n",
		res.in.Source, r.Proxy.Name, r.Proxy.Version, r.Backend, r.StepsDone, r.StepsTotal, r.RequestsPerInbound)
	fmt.Fprintf(out, "Arrival process: %s\n", charts.ArrivalText(res.in.Sweep.Options))
	if si := r.StandIn; si != nil {
		fmt.Fprintf(out, "Stand-in: %s.\n  Figures that describe %s: %s; from Envoy's model: %s.\n", si.Note, si.Proxy, strings.Join(si.Describes, ", "), strings.Join(si.FromEnvoyModel, ", "))
	}
	writeCurves(out, r)
	writeCapacities(out, r)
	fmt.Fprintf(out, "\n\nCompared with Istio's published sidecar figures (the overall line's slope; these measurements describe %s):\n", r.Proxy.Name)
	for _, c := range r.Comparison {
		fmt.Fprintf(out, "  %-20s %-10s %.2f cores/1000 RPS: measured %.3f is %.2fx\n", c.Profile, c.IstioVersions, c.CoresPerKRPS, r.Overall.Line().Cost.CoresPerKRPS, c.Ratio)
	}
	WriteRecommendation(out, res.in, res.ProfileFile)
	return nil
}

// writeCurves is the table of each setting's two CPU models and the
// overall one, then why each chose its model.
func writeCurves(out io.Writer, r *fit.Report) {
	fmt.Fprintln(out, "\nCPU CURVES (proxy cores against sidecar RPS; held-out: the largest leave-one-rate-out error)")
	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "SETTING\tPOINTS\tLINE\tHELD-OUT\tCONCAVE\tHELD-OUT\tCHOSEN")
	rows := append(append([]fit.SettingFit{}, r.Settings...), fit.SettingFit{CPU: &r.Overall})
	for i, s := range rows {
		key := s.Key()
		if i == len(rows)-1 {
			key = "overall"
		}
		if s.CPU == nil {
			fmt.Fprintf(w, "%s\t-\tnot fitted\t\t\t\t\n", key)
			continue
		}
		line, lineHeld := modelCell(s.CPU.Line())
		concave, concaveHeld := modelCell(s.CPU.Concave())
		fmt.Fprintf(w, "%s\t%d (%d rates)\t%s\t%s\t%s\t%s\t%s\n", key, s.CPU.Points, s.CPU.Rates, line, lineHeld, concave, concaveHeld, s.CPU.Chosen)
	}
	w.Flush()
	for _, s := range r.Settings {
		if s.Skipped != "" {
			fmt.Fprintf(out, "not fitted: %s\n", s.Skipped)
		} else {
			fmt.Fprintf(out, "  %s: %s\n", s.Key(), s.CPU.ChoiceReason)
		}
	}
	fmt.Fprintf(out, "  overall (unthrottled steps): %s\n", r.Overall.ChoiceReason)
}

// writeCapacities is the table of each setting's capacity, throttling,
// working set and default workers, then the memory model.
func writeCapacities(out io.Writer, r *fit.Report) {
	workingSet := "WORKING SET"
	if r.StandIn != nil {
		workingSet = fmt.Sprintf("WORKING SET (%s'S, NOT ENVOY'S)", strings.ToUpper(r.StandIn.Proxy))
	}
	fmt.Fprintln(out, "\nCAPACITY AND WORKERS (a capacity is a max-throughput search's, or a lower bound: the most a valid step carried)")
	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintf(w, "SETTING\tCAPACITY (SIDECAR RPS)\tTHROTTLED FROM\t%s\tWORKERS WITHOUT THE ANNOTATION (ISTIO / ENVOY 1.37+)\n", workingSet)
	for _, s := range r.Settings {
		throttle := "not seen"
		if s.ThrottlingFromRPS > 0 {
			throttle = fmt.Sprintf("%.0f rps", s.ThrottlingFromRPS)
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%.1f MiB\t%s\n", s.Key(), charts.CapacityText(s), throttle, s.MemoryBytes/(1<<20), workersCell(s.DefaultWorkers))
	}
	w.Flush()
	for _, s := range r.Settings {
		fmt.Fprintf(out, "  %s capacity: %s\n", s.Key(), s.MaxBasis)
	}
	memory := "memory"
	if r.StandIn != nil {
		memory = r.StandIn.Proxy + "'s working set (not Envoy's; the memory request comes from Envoy's model)"
	}
	fmt.Fprintf(out, "%s: %.1f MiB at 1 worker, %.2f MiB per extra worker", memory, r.Memory.BaseBytes/(1<<20), r.Memory.PerWorkerBytes/(1<<20))
	if r.Memory.Note != "" {
		fmt.Fprintf(out, " (%s)", r.Memory.Note)
	}
}

// modelCell is a model's formula and its held-out error for the table.
func modelCell(m *fit.ModelFit) (string, string) {
	if m.NotFitted != "" {
		return "not fitted", "-"
	}
	held := "needs more rates"
	if m.Judged {
		held = fmt.Sprintf("%.1f%%", m.MaxHeldOutErr*100)
	}
	return m.Cost.Formula(), held
}

func workersCell(d sizing.DefaultConcurrency) string {
	if d.Istio == 0 {
		return "one per node core / one per node core"
	}
	return fmt.Sprintf("%d / %d", d.Istio, d.Envoy)
}

// WriteRecommendation prints the choice, its interval, the annotations and
// every warning of the analysis: the same ones fit, the sweep's finish and
// the reports show; then the profile and the plan command that sizes with
// it.
func WriteRecommendation(out io.Writer, in Input, profileFile string) {
	c := in.Choice
	rec := c.Recommendation
	fmt.Fprintf(out, "\nRecommendation for %g inbound RPS per pod: %.0f sidecar RPS, peak %.0f with headroom", c.TargetInboundRPS, rec.TargetSidecarRPS, rec.PeakSidecarRPS)
	if rec.SLOP99Ms > 0 {
		fmt.Fprintf(out, ", p99 within %g ms", rec.SLOP99Ms)
	}
	fmt.Fprintln(out)
	if c.TargetAssumed != "" {
		fmt.Fprintf(out, "  (%s)\n", c.TargetAssumed)
	}
	if rec.Best == nil {
		fmt.Fprintf(out, "  %s\n", rec.NoneMeets)
	} else {
		writeChosen(out, rec)
	}
	for _, why := range rec.Rejected {
		fmt.Fprintf(out, "  not chosen: %s\n", why)
	}
	if rec.RejectedAboveLimit > 0 {
		fmt.Fprintf(out, "  (%d setting(s) not considered for running more workers than ceil(CPU limit): %s)\n", rec.RejectedAboveLimit,
			in.Names.Sprintf("%s considers them", analysis.FieldAllowConcurrencyAboveLimit))
	}
	if len(c.Annotations) > 0 {
		fmt.Fprintf(out, "  pod annotations (%s):\n    # %s\n", charts.AnnotationsHeading(c.Annotations), c.AnnotationsNote)
		for _, k := range slices.Sorted(maps.Keys(c.Annotations)) {
			fmt.Fprintf(out, "    %s: %q\n", k, c.Annotations[k])
		}
	}
	if ws := in.Warnings(); len(ws) > 0 {
		fmt.Fprintf(out, "\nWarnings (%d):\n", len(ws))
		for _, w := range ws {
			fmt.Fprintf(out, "  warning: %s\n", w)
		}
	}
	fmt.Fprintf(out, "\nProfile: %s\n", profileFile)
	if in.PlanCommand != "" {
		fmt.Fprintf(out, "Size with it: %s\n", in.PlanCommand)
	}
}

// writeChosen is the chosen setting with its request's interval, the
// runner-up and the settings indistinguishable from it.
func writeChosen(out io.Writer, rec sizing.MeasuredRecommendation) {
	b := rec.Best
	fmt.Fprintf(out, "  chosen:    concurrency %d, CPU limit %s, CPU request %s\n             %s\n             CPU request %s\n             without the concurrency annotation: %s\n",
		b.Concurrency, b.LimitString(), quantity.Millicores(b.CPURequestMillicores), b.Reason, charts.RequestText(b.CPURequest), b.DefaultWorkers.Text)
	if ru := rec.RunnerUp; ru != nil {
		fmt.Fprintf(out, "  runner-up: concurrency %d, CPU limit %s, CPU request %s\n             %s\n",
			ru.Concurrency, ru.LimitString(), quantity.Millicores(ru.CPURequestMillicores), ru.Reason)
	}
	if len(rec.Indistinguishable) > 1 {
		fmt.Fprintf(out, "  indistinguishable at the peak (their 95%% intervals overlap; %s):\n", rec.TieRule)
		for _, i := range rec.Indistinguishable {
			fmt.Fprintf(out, "    - %s\n", i)
		}
	}
}

// WritePaths lists the files Write wrote.
func WritePaths(w io.Writer, p Paths, in Input) {
	fmt.Fprintf(w, "Report of %s (%s):\n", in.Source, charts.ProxyLabel(in.Sweep.Proxy))
	fmt.Fprintf(w, "  %s\n  %s\n  %s\n  %s\n  %s/ (%d fortio results: fortio report -data-dir %s)\n", p.HTML, p.Markdown, p.CSV, p.SMP, p.FortioDir, p.FortioFiles, p.FortioDir)
	if len(p.MissingFortio) > 0 {
		fmt.Fprintf(w, "  missing from the results directory, not exported: %v\n", p.MissingFortio)
	}
	if in.NotFitted != nil {
		fmt.Fprintf(w, "  not fitted: %s\n", in.WhyNotFitted())
	}
}
