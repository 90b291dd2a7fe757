package cmd

import (
	"errors"
	"io"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/proxysizer/proxysizer/analysis"
	"github.com/proxysizer/proxysizer/report"
)

func init() { register(newReportCmd) }

func newReportCmd() *cobra.Command {
	var out string
	r := analysis.DefaultRequest()
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
	}
	fl := c.Flags()
	fl.StringVar(&out, "out", "", "directory to write the report into (default DIR)")
	f := bindAnalysisFlags(fl, &r)
	c.RunE = func(c *cobra.Command, args []string) error {
		r.Given, r.Names = f.given(), f.names(analysisNames())
		return runReport(c.OutOrStdout(), args[0], out, r)
	}
	return c
}

// runReport analyzes the sweep in dir and writes its report into outFlag
// (default dir).
func runReport(w io.Writer, dir, outFlag string, r analysis.Request) error {
	o, err := r.Options(dir)
	if err != nil {
		return err
	}
	out := outFlag
	if out == "" {
		out = dir
	}
	checkOut := func() error {
		if err := report.Check(out); err != nil {
			if outFlag == "" {
				return badInput("results directory %v", err)
			}
			return flagError("out", "%v", err)
		}
		return nil
	}
	a, err := analyze(dir, o, checkOut)
	if err != nil {
		return err
	}
	if err := (report.Input{Analysis: a}).Validate(); err != nil {
		return badInput("results directory %s: %v", dir, err)
	}
	// The fit's profile goes beside the report, as a sweep writes it.
	in := reportInput(a, filepath.Join(out, analysis.ProfileFile))
	paths, err := report.Write(out, in)
	if errors.Is(err, report.ErrSource) {
		return badInput("%v", err)
	}
	if err != nil {
		if outFlag != "" {
			return flagError("out", "%v", err)
		}
		return err
	}
	report.WritePaths(w, paths, in)
	return nil
}
