package cmd

import (
	"errors"
	"fmt"
	"io"
	"maps"
	"path/filepath"
	"slices"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/proxysizer/proxysizer/analysis"
	"github.com/proxysizer/proxysizer/charts"
	"github.com/proxysizer/proxysizer/fit"
	"github.com/proxysizer/proxysizer/internal/quantity"
	"github.com/proxysizer/proxysizer/internal/safefile"
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
	targetRPS float64
	headroom  float64
	sloP99    time.Duration
}

// fitResult is fit's JSON output.
type fitResult struct {
	Report *fit.Report `json:"fit"`
	analysis.Choice
	ProfileFile string `json:"profile_file"`
	PlanCommand string `json:"plan_command,omitempty"`
}

func newFitCmd() *cobra.Command {
	var f fitFlags
	c := &cobra.Command{
		Use:   "fit DIR",
		Short: "Fit cost models to a sweep's measurements and recommend a setting",
		Long: `fit reads a sweep's results directory and fits, for each concurrency x CPU
limit, proxy CPU against sidecar RPS by least squares (idle cost, cores per
1000 RPS, R² and 95% confidence intervals, leave-one-rate-out prediction
errors), with the maximum it carried, where throttling starts, the latency it
added and its memory. It writes the fit as a measured profile (the format
'plan --profile' reads) and recommends the setting that carries the target at
the lowest CPU request within the SLO.`,
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
	fl.Float64Var(&t.targetRPS, "target-rps", 0, "inbound RPS per pod to recommend for (default: the sweep's highest rate)")
	fl.Float64Var(&t.headroom, "headroom", sizing.DefaultHeadroom, "fraction added above the target")
	fl.DurationVar(&t.sloP99, "slo-p99", 0, "p99 latency the chosen setting must keep (default: the sweep's --slo-p99, if any)")
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
	return nil
}

func (t targetFlags) options(dir string) analysis.Options {
	return analysis.Options{Source: dir, TargetInboundRPS: t.targetRPS, Headroom: t.headroom, SLOP99: t.sloP99, Names: planFlagNames()}
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
	return &fitResult{Report: a.Fit, Choice: a.Choice, ProfileFile: profile, PlanCommand: planCommand(a, profile)}, nil
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
	fmt.Fprintf(out, "Fit of %s: %s (%s), %s backend; %d of %d steps done; %.2f requests through the proxy per inbound request\n\n",
		dir, r.Proxy.Name, r.Proxy.Version, r.Backend, r.StepsDone, r.StepsTotal, r.RequestsPerInbound)
	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "SETTING\tPOINTS\tIDLE CORES\tCORES/1000 RPS\tR²\tLOO MAX ERR\tMAX SIDECAR RPS\tTHROTTLED FROM\tMEMORY")
	for _, s := range r.Settings {
		key := s.Key()
		if s.CPU == nil {
			fmt.Fprintf(w, "%s\t-\tnot fitted\t\t\t\t%.0f\t\t\n", key, s.MaxSidecarRPS)
			continue
		}
		throttle := "not seen"
		if s.ThrottlingFromRPS > 0 {
			throttle = fmt.Sprintf("%.0f rps", s.ThrottlingFromRPS)
		}
		fmt.Fprintf(w, "%s\t%d\t%s\t%s\t%.3f\t%s\t%.0f\t%s\t%s\n", key, s.CPU.Points,
			charts.PlusMinus(s.CPU.IdleCores, s.CPU.IdleCoresCI), charts.PlusMinus(s.CPU.CoresPerKRPS, s.CPU.CoresPerKRPSCI),
			s.CPU.R2, looText(s.CPU), s.MaxSidecarRPS, throttle, fmt.Sprintf("%.1f MiB", s.MemoryBytes/(1<<20)))
	}
	w.Flush()
	for _, s := range r.Settings {
		if s.Skipped != "" {
			fmt.Fprintf(out, "not fitted: %s\n", s.Skipped)
		}
	}
	fmt.Fprintf(out, "\noverall (unthrottled steps): idle %s cores, %s cores per 1000 sidecar RPS, R² %.3f, leave-one-rate-out max error %s\n",
		charts.PlusMinus(r.Overall.IdleCores, r.Overall.IdleCoresCI), charts.PlusMinus(r.Overall.CoresPerKRPS, r.Overall.CoresPerKRPSCI), r.Overall.R2, looText(&r.Overall))
	fmt.Fprintf(out, "memory: %.1f MiB at 1 worker, %.2f MiB per extra worker", r.Memory.BaseBytes/(1<<20), r.Memory.PerWorkerBytes/(1<<20))
	if r.Memory.Note != "" {
		fmt.Fprintf(out, " (%s)", r.Memory.Note)
	}
	fmt.Fprintf(out, "\n\nCompared with Istio's published sidecar figures (these measurements describe %s):\n", r.Proxy.Name)
	for _, c := range r.Comparison {
		fmt.Fprintf(out, "  %-20s %-10s %.2f cores/1000 RPS: measured %.3f is %.2fx\n", c.Profile, c.IstioVersions, c.CoresPerKRPS, r.Overall.CoresPerKRPS, c.Ratio)
	}
	writeRecommendation(out, res.Choice, res.ProfileFile, res.PlanCommand)
	for _, warn := range r.Warnings {
		fmt.Fprintf(out, "warning: %s\n", warn)
	}
	return nil
}

func writeRecommendation(out io.Writer, c analysis.Choice, profileFile, planCommand string) {
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
		fmt.Fprintf(out, "  chosen:    concurrency %d, CPU limit %s, CPU request %s\n             %s\n",
			rec.Best.Concurrency, rec.Best.LimitString(), quantity.Millicores(rec.Best.CPURequestMillicores), rec.Best.Reason)
		if ru := rec.RunnerUp; ru != nil {
			fmt.Fprintf(out, "  runner-up: concurrency %d, CPU limit %s, CPU request %s\n             %s\n",
				ru.Concurrency, ru.LimitString(), quantity.Millicores(ru.CPURequestMillicores), ru.Reason)
		}
	}
	for _, why := range rec.Rejected {
		fmt.Fprintf(out, "  not chosen: %s\n", why)
	}
	for _, w := range rec.Warnings {
		fmt.Fprintf(out, "  warning: %s\n", w)
	}
	if len(c.Annotations) > 0 {
		fmt.Fprintln(out, "  pod annotations (all four resources: Istio drops any not annotated):")
		for _, k := range slices.Sorted(maps.Keys(c.Annotations)) {
			fmt.Fprintf(out, "    %s: %q\n", k, c.Annotations[k])
		}
	}
	fmt.Fprintf(out, "\nProfile: %s\n", profileFile)
	if planCommand != "" {
		fmt.Fprintf(out, "Size with it: %s\n", planCommand)
	}
}

func looText(f *fit.CPUFit) string {
	if len(f.HeldOut) == 0 {
		return "- (needs 3 rates)"
	}
	return fmt.Sprintf("%.1f%%", f.MaxHeldOutErr*100)
}
