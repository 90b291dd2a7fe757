package cmd

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/proxysizer/proxysizer/analysis"
	"github.com/proxysizer/proxysizer/charts"
	"github.com/proxysizer/proxysizer/report"
	"github.com/proxysizer/proxysizer/results"
)

func init() { register(newReportCmd) }

type reportFlags struct {
	out    string
	target targetFlags
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
	f.target.register(fl)
	return c
}

func runReport(c *cobra.Command, dir string, f reportFlags) error {
	if err := f.target.validate(c); err != nil {
		return err
	}
	out := f.out
	if out == "" {
		out = dir
	}
	checkOut := func() error {
		if err := report.Check(out); err != nil {
			if f.out == "" {
				return badInput("results directory %v", err)
			}
			return flagError("out", "%v", err)
		}
		return nil
	}
	a, err := analyze(dir, f.target.options(dir), checkOut)
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
		if f.out != "" {
			return flagError("out", "%v", err)
		}
		return err
	}
	printReportPaths(c.OutOrStdout(), paths, in)
	return nil
}

// reportInput gives what the report is made of, with the command lines it
// shows; profile is where report.Write puts the fitted profile.
func reportInput(a *analysis.Analysis, profile string) report.Input {
	return report.Input{Analysis: a, PlanCommand: planCommand(a, profile), ReproduceCommand: reproduceCommand(a.Sweep)}
}

// reproduceCommand is the sweep command line that measures rec's grid again.
func reproduceCommand(rec *results.Sweep) string {
	o := rec.Options
	var b strings.Builder
	fmt.Fprintf(&b, "proxysizer sweep --backend %s --proxy %s --concurrency %s --cpu-limit %s --rates %s",
		orDefault(rec.Backend, "local"), orDefault(rec.Proxy.Name, "auto"), commaList(o.Concurrency, strconv.Itoa),
		commaList(o.CPULimitMillicores, results.LimitString), commaList(o.Rates, func(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }))
	if o.FindMax {
		b.WriteString(" --find-max")
		if o.SLOP99Ms > 0 {
			fmt.Fprintf(&b, " --slo-p99 %s", time.Duration(o.SLOP99Ms*float64(time.Millisecond)))
		}
	}
	fmt.Fprintf(&b, " --outbound-per-request %d --duration %s --warmup %s --connections %d --protocol %s",
		o.OutboundPerRequest, seconds(o.DurationSeconds), seconds(o.WarmupSeconds), o.Connections, o.Protocol)
	if o.PayloadBytes > 0 {
		fmt.Fprintf(&b, " --payload-size %d", o.PayloadBytes)
	}
	if !rec.Environment.CPULimitsEnforced && rec.Backend == "local" {
		b.WriteString(" --no-cpu-limit")
	}
	return b.String() + " --out DIR"
}

func commaList[T any](xs []T, format func(T) string) string {
	parts := make([]string, len(xs))
	for i, x := range xs {
		parts[i] = format(x)
	}
	return strings.Join(parts, ",")
}

func orDefault(s, d string) string {
	if strings.TrimSpace(s) == "" {
		return d
	}
	return s
}

func seconds(s float64) string { return time.Duration(s * float64(time.Second)).String() }

func printReportPaths(w io.Writer, p report.Paths, in report.Input) {
	fmt.Fprintf(w, "Report of %s (%s):\n", in.Source, charts.ProxyLabel(in.Sweep.Proxy))
	fmt.Fprintf(w, "  %s\n  %s\n  %s\n  %s\n  %s/ (%d fortio results: fortio report -data-dir %s)\n", p.HTML, p.Markdown, p.CSV, p.SMP, p.FortioDir, p.FortioFiles, p.FortioDir)
	if len(p.MissingFortio) > 0 {
		fmt.Fprintf(w, "  missing from the results directory, not exported: %v\n", p.MissingFortio)
	}
	if in.NotFitted != nil {
		fmt.Fprintf(w, "  not fitted: %s\n", in.WhyNotFitted())
	}
}
