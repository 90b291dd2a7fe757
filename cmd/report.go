package cmd

import (
	"fmt"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/proxysizer/proxysizer/charts"
	"github.com/proxysizer/proxysizer/report"
	"github.com/proxysizer/proxysizer/results"
	"github.com/proxysizer/proxysizer/sizing"
)

func init() { register(newReportCmd) }

type reportFlags struct {
	out       string
	targetRPS float64
	headroom  float64
	sloP99    time.Duration
}

func newReportCmd() *cobra.Command {
	var f reportFlags
	c := &cobra.Command{
		Use:   "report DIR",
		Short: "Write a sweep's HTML, Markdown, CSV, fortio and SMP reports",
		Long: `report reads a sweep's results directory, fits it as 'fit' does, and writes
report.html (charts, self-contained and offline), report.md (a summary for a
capacity-planning document or a pull request), steps.csv, fortio/ (the runs'
fortio JSON, for 'fortio report -data-dir') and smp.json (the runs in the
Service Mesh Performance spec's shape) into DIR, or into --out. A sweep that
cannot be fitted still gets a report, without fitted lines or recommendation.
Every sweep writes the same files when it ends.`,
		Example: `  proxysizer report out/shop
  proxysizer report out/shop --out /tmp/shop-report --target-rps 600 --slo-p99 10ms`,
		Args: cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error { return runReport(c, args[0], f) },
	}
	fl := c.Flags()
	fl.StringVar(&f.out, "out", "", "directory to write the report into (default DIR)")
	fl.Float64Var(&f.targetRPS, "target-rps", 0, "inbound RPS per pod to recommend for (default: the sweep's highest rate)")
	fl.Float64Var(&f.headroom, "headroom", sizing.DefaultHeadroom, "fraction added above the target")
	fl.DurationVar(&f.sloP99, "slo-p99", 0, "p99 latency the chosen setting must keep (default: the sweep's --slo-p99, if any)")
	return c
}

func runReport(c *cobra.Command, dir string, f reportFlags) error {
	if c.Flags().Changed("target-rps") && !positive(f.targetRPS) {
		return flagError("target-rps", "expected inbound RPS > 0, got %v", f.targetRPS)
	}
	if !nonNegative(f.headroom) || f.headroom > 10 {
		return flagError("headroom", "expected a fraction between 0 and 10, got %v", f.headroom)
	}
	if f.sloP99 < 0 {
		return flagError("slo-p99", "expected a positive duration, got %v", f.sloP99)
	}
	rec, err := results.Load(dir)
	if err != nil {
		return badInput("%v", err)
	}
	out := f.out
	if out == "" {
		out = dir
	}
	in := report.Input{Sweep: rec, Source: dir}
	if err := in.Validate(); err != nil {
		return badInput("results directory %s: %v", dir, err)
	}
	// The fit writes its profile beside the report, as a sweep does.
	res, err := fitSweep(rec, dir, fitFlags{out: filepath.Join(out, "profile.yaml"), targetRPS: f.targetRPS, headroom: f.headroom, sloP99: f.sloP99})
	if err != nil {
		in.NotFitted = oneLine(err.Error())
	} else {
		in = reportInput(rec, dir, res)
	}
	paths, err := report.Write(out, in)
	if err != nil {
		return err
	}
	printReportPaths(c.OutOrStdout(), paths, in)
	return nil
}

// reportInput is a fitted sweep's report input; the sweep command builds the
// same from its fitSweep result.
func reportInput(rec *results.Sweep, dir string, res *fitResult) report.Input {
	return report.Input{Sweep: rec, Source: dir, Fit: res.Report, Recommendation: &res.Recommendation,
		TargetInboundRPS: res.TargetRPS, TargetAssumed: res.TargetAssumed, PlanCommand: res.PlanCommand, Annotations: res.Annotations}
}

func printReportPaths(w interface{ Write([]byte) (int, error) }, p report.Paths, in report.Input) {
	fmt.Fprintf(w, "Report of %s (%s):\n", in.Source, charts.ProxyLabel(in.Sweep.Proxy))
	fmt.Fprintf(w, "  %s\n  %s\n  %s\n  %s\n  %s/ (%d fortio results: fortio report -data-dir %s)\n", p.HTML, p.Markdown, p.CSV, p.SMP, p.FortioDir, p.FortioFiles, p.FortioDir)
	if len(p.MissingFortio) > 0 {
		fmt.Fprintf(w, "  missing from the results directory, not exported: %v\n", p.MissingFortio)
	}
	if in.NotFitted != "" {
		fmt.Fprintf(w, "  not fitted: %s\n", in.NotFitted)
	}
}
