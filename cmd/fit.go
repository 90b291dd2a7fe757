package cmd

import (
	"errors"
	"fmt"
	"path/filepath"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/proxysizer/proxysizer/analysis"
	"github.com/proxysizer/proxysizer/fit"
	"github.com/proxysizer/proxysizer/internal/input"
	"github.com/proxysizer/proxysizer/internal/safefile"
	"github.com/proxysizer/proxysizer/report"
	"github.com/proxysizer/proxysizer/results"
	"github.com/proxysizer/proxysizer/sizing"
)

func init() { register(newFitCmd) }

func newFitCmd() *cobra.Command {
	var out, name string
	format := "table"
	r := analysis.DefaultRequest()
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
	}
	fl := c.Flags()
	fl.StringVarP(&out, "output", "o", "", "profile file to write (default DIR/profile.yaml)")
	fl.StringVar(&name, "name", "", "profile name (default measured-PROXY-TIMESTAMP)")
	fl.StringVar(&format, "format", format, "report format: table or json")
	f := bindAnalysisFlags(fl, &r)
	c.RunE = func(c *cobra.Command, args []string) error {
		if !oneOf(format, "table", "json") {
			return flagError("format", "expected table or json, got %q", format)
		}
		r.Given, r.Names = f.given(), f.names(analysisNames())
		res, err := runFit(args[0], out, name, r)
		if err != nil {
			return err
		}
		if format == "json" {
			return writeJSON(c.OutOrStdout(), res)
		}
		return res.WriteText(c.OutOrStdout())
	}
	return c
}

// bindAnalysisFlags binds what fit and report recommend for.
func bindAnalysisFlags(fl *pflag.FlagSet, r *analysis.Request) fieldFlags {
	f := newFieldFlags(fl)
	f.bind(analysis.FieldTargetRPS, &r.TargetInboundRPS, "target-rps", "inbound RPS per pod to recommend for (default: from the sweep's valid rates, less the headroom)")
	f.bind(sizing.FieldHeadroom, &r.Headroom, "headroom", "fraction added above the target")
	f.bind(analysis.FieldSLOP99, &r.SLOP99, "slo-p99", "p99 latency the chosen setting must keep (default: the sweep's --slo-p99, if any)")
	f.bind(analysis.FieldAllowConcurrencyAboveLimit, &r.AllowConcurrencyAboveLimit, "allow-concurrency-above-limit", "consider settings with more workers than ceil(CPU limit)")
	f.bind(sizing.FieldClusters, &r.Clusters, "clusters", fmt.Sprintf("clusters the proxy will hold, for its memory (default %d, assumed)", sizing.DefaultClusters))
	f.bind(sizing.FieldEndpoints, &r.Endpoints, "endpoints", fmt.Sprintf("endpoints the proxy will hold, for its memory (default %d, assumed)", sizing.DefaultEndpoints))
	return f
}

// analysisNames show an analysis's inputs as fit's flags, and its plan's
// as plan's: the names of every output of an analysis (fit, report, the
// sweep's finish).
func analysisNames() input.Names {
	r := analysis.DefaultRequest()
	names := bindAnalysisFlags(pflag.NewFlagSet("fit", pflag.ContinueOnError), &r).names(planFlagNames())
	names[analysis.FieldInventory] = "`proxysizer inventory`"
	return names
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

// runFit analyzes the sweep in dir and writes its profile to out (default
// DIR/profile.yaml), named name.
func runFit(dir, out, name string, r analysis.Request) (*report.FitResult, error) {
	o, err := r.Options(dir)
	if err != nil {
		return nil, err
	}
	o.ProfileName = name
	profile := out
	checkProfile := func() error {
		if out == "" {
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
	return report.NewFitResult(reportInput(a, profile), profile), nil
}
