package cmd

import (
	"errors"
	"fmt"
	"io"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/proxysizer/proxysizer/analysis"
	"github.com/proxysizer/proxysizer/charts"
	"github.com/proxysizer/proxysizer/fit"
	"github.com/proxysizer/proxysizer/internal/quantity"
	"github.com/proxysizer/proxysizer/internal/safefile"
	"github.com/proxysizer/proxysizer/model"
	"github.com/proxysizer/proxysizer/results"
	"github.com/proxysizer/proxysizer/sizing"
	"github.com/proxysizer/proxysizer/sweep"
)

func init() { register(newFitCmd) }

type fitFlags struct {
	out, name, format string
	target            targetFlags
}

// targetFlags say what fit and report recommend for.
type targetFlags struct {
	targetRPS           float64
	headroom            float64
	sloP99              time.Duration
	allowAboveLimit     bool
	clusters, endpoints int
}

// fitResult is fit's JSON output.
type fitResult struct {
	Report *fit.Report `json:"fit"`
	analysis.Choice
	// Warnings are every warning of the analysis, the fit's and the
	// recommendation's, as every other output shows them.
	Warnings    []string `json:"warnings"`
	ProfileFile string   `json:"profile_file"`
	PlanCommand string   `json:"plan_command,omitempty"`
	analysis    *analysis.Analysis
}

func newFitCmd() *cobra.Command {
	var f fitFlags
	c := &cobra.Command{
		Use:   "fit DIR",
		Short: "Fit cost models to a sweep's measurements and recommend a setting",
		Long: `fit reads a sweep's results directory and fits, for each concurrency x CPU
limit, proxy CPU against sidecar RPS by least squares: a line and a concave
curve (idle + a x (RPS/1000)^b), each judged by how well it predicts a rate
it was not fitted on (leave-one-rate-out), the better one chosen. It gives
each setting's capacity (a max-throughput search's, else a lower bound),
where throttling starts, the latency it added and its memory, and writes the
fit as a measured profile (the format 'plan --profile' reads). It recommends
the setting that carries the peak within the SLO at the lowest CPU request,
the upper end of the 95% prediction interval at the peak; settings whose
intervals overlap are indistinguishable and the tie rule chooses.`,
		Example: `  proxysizer fit out/shop -o shop-profile.yaml --target-rps 600 --slo-p99 10ms`,
		Args:    cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			res, err := runFit(c, args[0], f)
			if err != nil {
				return err
			}
			if f.format == "json" {
				return writeJSON(c.OutOrStdout(), res)
			}
			return writeFitReport(c.OutOrStdout(), args[0], res)
		},
	}
	fl := c.Flags()
	fl.StringVarP(&f.out, "output", "o", "", "profile file to write (default DIR/profile.yaml)")
	fl.StringVar(&f.name, "name", "", "profile name (default measured-PROXY-TIMESTAMP)")
	fl.StringVar(&f.format, "format", "table", "report format: table or json")
	f.target.register(fl)
	return c
}

func (t *targetFlags) register(fl *pflag.FlagSet) {
	fl.Float64Var(&t.targetRPS, "target-rps", 0, "inbound RPS per pod to recommend for (default: from the sweep's valid rates, less the headroom)")
	fl.Float64Var(&t.headroom, "headroom", sizing.DefaultHeadroom, "fraction added above the target")
	fl.DurationVar(&t.sloP99, "slo-p99", 0, "p99 latency the chosen setting must keep (default: the sweep's --slo-p99, if any)")
	fl.BoolVar(&t.allowAboveLimit, "allow-concurrency-above-limit", false, "consider settings with more workers than ceil(CPU limit)")
	fl.IntVar(&t.clusters, "clusters", 0, fmt.Sprintf("clusters the proxy will hold, for its memory (default %d, assumed)", sizing.DefaultClusters))
	fl.IntVar(&t.endpoints, "endpoints", 0, fmt.Sprintf("endpoints the proxy will hold, for its memory (default %d, assumed)", sizing.DefaultEndpoints))
}

func (t targetFlags) validate(c *cobra.Command) error {
	if c.Flags().Changed("target-rps") && (!positive(t.targetRPS) || t.targetRPS > sizing.MaxRPSPerPod) {
		return flagError("target-rps", "expected inbound RPS per pod > 0 and at most %g, got %v", float64(sizing.MaxRPSPerPod), t.targetRPS)
	}
	if !nonNegative(t.headroom) || t.headroom > sizing.MaxHeadroom {
		return flagError("headroom", "expected a fraction between 0 and %d, got %v", sizing.MaxHeadroom, t.headroom)
	}
	if t.sloP99 < 0 || t.sloP99 > sweep.MaxSLOP99 {
		return flagError("slo-p99", "expected a positive duration of at most %v, got %v", sweep.MaxSLOP99, t.sloP99)
	}
	for name, n := range map[string]int{"clusters": t.clusters, "endpoints": t.endpoints} {
		if n < 0 || c.Flags().Changed(name) && n == 0 {
			return flagError(name, "expected a count > 0, got %d", n)
		}
	}
	if (t.clusters > 0) != (t.endpoints > 0) {
		return flagError("clusters", "give --clusters and --endpoints together (count them with `proxysizer inventory`)")
	}
	return nil
}

func (t targetFlags) options(dir string) analysis.Options {
	return analysis.Options{Source: dir, TargetInboundRPS: t.targetRPS, Headroom: t.headroom, SLOP99: t.sloP99, Names: planFlagNames(),
		AllowConcurrencyAboveLimit: t.allowAboveLimit, Config: model.Config{Clusters: t.clusters, Endpoints: t.endpoints}}
}

// analyze loads the sweep in dir and analyzes it; checkOutputs runs in
// between, once the input is known good and before any work.
func analyze(dir string, o analysis.Options, checkOutputs func() error) (*analysis.Analysis, error) {
	rec, err := results.Load(dir)
	if err != nil {
		return nil, badInput("%v", err)
	}
	if err := checkOutputs(); err != nil {
		return nil, err
	}
	return analysis.Analyze(rec, o)
}

func runFit(c *cobra.Command, dir string, f fitFlags) (*fitResult, error) {
	if !oneOf(f.format, "table", "json") {
		return nil, flagError("format", "expected table or json, got %q", f.format)
	}
	if err := f.target.validate(c); err != nil {
		return nil, err
	}
	profile := f.out
	checkProfile := func() error {
		if f.out == "" {
			if err := results.CheckOutputDir(dir, []string{analysis.ProfileFile}, nil); err != nil {
				return badInput("results directory %v", err)
			}
		} else if err := safefile.CheckWritable(profile); err != nil {
			return flagError("output", "%v", err)
		}
		return nil
	}
	if profile == "" {
		profile = filepath.Join(dir, analysis.ProfileFile)
	}
	o := f.target.options(dir)
	o.ProfileName = f.name
	a, err := analyze(dir, o, checkProfile)
	if err != nil {
		return nil, err
	}
	if errors.Is(a.NotFitted, fit.ErrNothingToFit) {
		return nil, badInput("%v", a.NotFitted)
	}
	if a.NotFitted != nil {
		return nil, a.NotFitted
	}
	if err := a.WriteProfile(profile); err != nil {
		return nil, flagError("output", "%v", err)
	}
	return &fitResult{Report: a.Fit, Choice: a.Choice, Warnings: orEmpty(a.Warnings()), ProfileFile: profile, PlanCommand: planCommand(a, profile), analysis: a}, nil
}

func orEmpty(xs []string) []string {
	if xs == nil {
		return []string{}
	}
	return xs
}

// planCommand sizes with the fitted profile at the chosen setting; empty
// without a choice.
func planCommand(a *analysis.Analysis, profile string) string {
	b := a.Recommendation.Best
	if b == nil {
		return ""
	}
	return fmt.Sprintf("proxysizer plan --profile %s --rps-per-pod %g --outbound-per-request %d --concurrency %d --cpu-limit %s",
		profile, a.TargetInboundRPS, a.Sweep.Options.OutboundPerRequest, b.Concurrency, b.LimitString())
}

func writeFitReport(out io.Writer, dir string, res *fitResult) error {
	r := res.Report
	fmt.Fprintf(out, "Fit of %s: %s (%s), %s backend; %d of %d steps done; %.2f requests through the proxy per inbound request\n",
		dir, r.Proxy.Name, r.Proxy.Version, r.Backend, r.StepsDone, r.StepsTotal, r.RequestsPerInbound)
	fmt.Fprintf(out, "Arrival process: %s\n", charts.ArrivalText(res.analysis.Sweep.Options))
	if si := r.StandIn; si != nil {
		fmt.Fprintf(out, "Stand-in: %s.\n  Figures that describe %s: %s; from Envoy's model: %s.\n", si.Note, si.Proxy, strings.Join(si.Describes, ", "), strings.Join(si.FromEnvoyModel, ", "))
	}
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

	workingSet := "WORKING SET"
	if r.StandIn != nil {
		workingSet = fmt.Sprintf("WORKING SET (%s'S, NOT ENVOY'S)", strings.ToUpper(r.StandIn.Proxy))
	}
	fmt.Fprintln(out, "\nCAPACITY AND WORKERS (a capacity is a max-throughput search's, or a lower bound: the most a valid step carried)")
	w = tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
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
	fmt.Fprintf(out, "\n\nCompared with Istio's published sidecar figures (the overall line's slope; these measurements describe %s):\n", r.Proxy.Name)
	for _, c := range r.Comparison {
		fmt.Fprintf(out, "  %-20s %-10s %.2f cores/1000 RPS: measured %.3f is %.2fx\n", c.Profile, c.IstioVersions, c.CoresPerKRPS, r.Overall.Line().Cost.CoresPerKRPS, c.Ratio)
	}
	writeRecommendation(out, res.analysis, res.ProfileFile, res.PlanCommand)
	return nil
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

// writeRecommendation prints the choice, its interval, the annotations and
// every warning of the analysis: the same ones fit, the sweep's finish and
// the reports show.
func writeRecommendation(out io.Writer, a *analysis.Analysis, profileFile, planCommand string) {
	c := a.Choice
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
	for _, why := range rec.Rejected {
		fmt.Fprintf(out, "  not chosen: %s\n", why)
	}
	if rec.RejectedAboveLimit > 0 {
		fmt.Fprintf(out, "  (%d setting(s) not considered for running more workers than ceil(CPU limit): --allow-concurrency-above-limit considers them)\n", rec.RejectedAboveLimit)
	}
	if len(c.Annotations) > 0 {
		fmt.Fprintf(out, "  pod annotations (%s):\n    # %s\n", charts.AnnotationsHeading(c.Annotations), c.AnnotationsNote)
		for _, k := range slices.Sorted(maps.Keys(c.Annotations)) {
			fmt.Fprintf(out, "    %s: %q\n", k, c.Annotations[k])
		}
	}
	if ws := a.Warnings(); len(ws) > 0 {
		fmt.Fprintf(out, "\nWarnings (%d):\n", len(ws))
		for _, w := range ws {
			fmt.Fprintf(out, "  warning: %s\n", w)
		}
	}
	fmt.Fprintf(out, "\nProfile: %s\n", profileFile)
	if planCommand != "" {
		fmt.Fprintf(out, "Size with it: %s\n", planCommand)
	}
}
