package cmd

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	fortiolog "fortio.org/log"
	"github.com/spf13/cobra"

	"github.com/proxysizer/proxysizer/loadgen"
	"github.com/proxysizer/proxysizer/results"
)

func init() { register(newLoadCmd) }

// loadFlags holds load's raw flag values; toOptions validates them.
type loadFlags struct {
	qps            string
	connections    int
	duration       time.Duration
	warmup         time.Duration
	protocol       string
	payloadSize    int
	headers        []string
	labels         string
	connectTimeout time.Duration
	requestTimeout time.Duration
	maxErrorRatio  float64

	findMax   bool
	sloP99    time.Duration
	sloBasis  string
	startQPS  float64
	maxQPS    float64
	precision float64
	maxSteps  int
	maxTime   time.Duration
	retries   int

	out        string
	output     string
	noProgress bool
}

// searchOnlyFlags make sense only with --find-max.
var searchOnlyFlags = []string{"slo-p99", "slo-basis", "start-qps", "max-qps", "precision", "max-steps", "max-time", "fail-retries"}

func newLoadCmd() *cobra.Command {
	var f loadFlags
	c := &cobra.Command{
		Use:   "load URL",
		Short: "Load a target with fortio: one run, or the highest rate that meets an SLO",
		Long: `load sends HTTP/1.1, h2c or gRPC (fortio ping) load to URL through fortio's
library and reports latency percentiles, achieved rate, errors, the
generator's own CPU use and whether the run is a valid measurement
(achieved/requested >= 0.97, errors <= --max-error-ratio, no more than 5% of
calls behind schedule). Latency is reported as fortio measures it (from each
call's actual send) and, for fixed rates, from each call's intended send time
in the schedule, which counts the queueing fortio's figure omits.

With --find-max it searches for the highest rate whose runs are valid and
whose p99 meets --slo-p99: doubling from --start-qps until a step fails, then
bisecting until within --precision.

Progress goes to stderr, results to stdout. --out DIR saves fortio's JSON of
every run (readable by fortio report) and summary.json.`,
		Example: `  proxysizer load http://127.0.0.1:8080/ --qps 1000 --connections 8 --duration 30s
  proxysizer load http://127.0.0.1:8080/ --qps max --protocol h2c -o json
  proxysizer load http://127.0.0.1:8079 --protocol grpc --find-max --slo-p99 5ms --out results/`,
		Args: cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			opts, search, err := f.toOptions(c, args[0])
			if err != nil {
				return err
			}
			return runLoad(c, f, opts, search)
		},
	}
	fl := c.Flags()
	fl.StringVar(&f.qps, "qps", "100", `requested rate across all connections, or "max" for as fast as possible`)
	fl.IntVar(&f.connections, "connections", loadgen.DefaultConnections, "concurrent connections")
	fl.DurationVar(&f.duration, "duration", loadgen.DefaultDuration, "measured duration of each run")
	fl.DurationVar(&f.warmup, "warmup", 2*time.Second, "warm-up run at the same rate before each measured run, excluded from the figures (0: none)")
	fl.StringVar(&f.protocol, "protocol", string(loadgen.HTTP1), "http1, h2c or grpc (fortio's ping service)")
	fl.IntVar(&f.payloadSize, "payload-size", 0, "request payload in bytes (HTTP: POST body; gRPC: ping payload)")
	fl.StringArrayVarP(&f.headers, "header", "H", nil, `extra header "Name: value" (repeatable; gRPC metadata for grpc)`)
	fl.StringVar(&f.labels, "labels", "", "labels stored in fortio's result")
	fl.DurationVar(&f.connectTimeout, "connect-timeout", loadgen.DefaultConnectTimeout, "how long to wait for the target to accept a connection before any load")
	fl.DurationVar(&f.requestTimeout, "request-timeout", loadgen.DefaultRequestTimeout, "timeout of each HTTP call")
	fl.Float64Var(&f.maxErrorRatio, "max-error-ratio", loadgen.DefaultLimits.MaxErrorRatio, "highest share of failed calls in a valid run")
	fl.BoolVar(&f.findMax, "find-max", false, "search for the highest rate that meets the SLO")
	fl.DurationVar(&f.sloP99, "slo-p99", 0, "with --find-max: p99 latency objective, e.g. 5ms (0: validity gates only)")
	fl.StringVar(&f.sloBasis, "slo-basis", string(loadgen.IntendedLatency), "with --find-max: latency the SLO applies to: intended (from scheduled send) or service (fortio's)")
	fl.Float64Var(&f.startQPS, "start-qps", loadgen.DefaultStartQPS, "with --find-max: first rate tried")
	fl.Float64Var(&f.maxQPS, "max-qps", loadgen.DefaultMaxQPS, "with --find-max: highest rate tried")
	fl.Float64Var(&f.precision, "precision", loadgen.DefaultPrecision, "with --find-max: stop when the failing rate is within this ratio of the passing one")
	fl.IntVar(&f.maxSteps, "max-steps", loadgen.DefaultMaxSteps, "with --find-max: most runs")
	fl.DurationVar(&f.maxTime, "max-time", loadgen.DefaultMaxTime, "with --find-max: no run starts that would end after this")
	fl.IntVar(&f.retries, "fail-retries", 1, "with --find-max: re-measure a failing rate this many times before taking the failure (0-5)")
	fl.StringVar(&f.out, "out", "", "directory to save fortio's JSON of each run and summary.json")
	fl.StringVarP(&f.output, "output", "o", "text", "text or json")
	fl.BoolVar(&f.noProgress, "no-progress", false, "no progress on stderr")
	return c
}

// toOptions validates the flags into run and search options (search is nil
// without --find-max).
func (f loadFlags) toOptions(c *cobra.Command, url string) (loadgen.Options, *loadgen.SearchOptions, error) {
	changed := c.Flags().Changed
	if f.output != "text" && f.output != "json" {
		return loadgen.Options{}, nil, flagError("output", "expected text or json, got %q", f.output)
	}
	if !f.findMax {
		for _, name := range searchOnlyFlags {
			if changed(name) {
				return loadgen.Options{}, nil, flagError(name, "applies only with --find-max")
			}
		}
	} else if changed("qps") {
		return loadgen.Options{}, nil, flagError("qps", "not used with --find-max, which picks the rates (see --start-qps)")
	}
	protocol, err := loadgen.ParseProtocol(f.protocol)
	if err != nil {
		return loadgen.Options{}, nil, flagError("protocol", "%v", err)
	}
	o := loadgen.Options{
		URL:            url,
		Protocol:       protocol,
		Connections:    f.connections,
		Duration:       f.duration,
		Warmup:         f.warmup,
		PayloadSize:    f.payloadSize,
		Headers:        f.headers,
		Labels:         f.labels,
		RequestTimeout: f.requestTimeout,
		ConnectTimeout: f.connectTimeout,
		Limits:         loadgen.Limits{MaxErrorRatio: f.maxErrorRatio},
	}
	// Zero would mean "default" to loadgen; on the command line it is a mistake.
	zero := map[string]bool{
		"connections": f.connections == 0, "duration": f.duration == 0,
		"connect-timeout": f.connectTimeout == 0, "request-timeout": f.requestTimeout == 0,
	}
	if f.findMax {
		zero["max-steps"], zero["max-time"], zero["precision"] = f.maxSteps == 0, f.maxTime == 0, f.precision == 0
	}
	for _, name := range slices.Sorted(maps.Keys(zero)) {
		if zero[name] {
			return o, nil, flagError(name, "expected a positive value, got 0 (0 is not the default)")
		}
	}
	// The results directory before any load: a search's work is not lost
	// to an --out that cannot take it.
	if f.out != "" {
		if err := results.CheckOutputDir(f.out, []string{loadSummaryFile}, nil); err != nil {
			return o, nil, flagError("out", "%v", err)
		}
	}
	if f.findMax {
		o.QPS = f.startQPS // validated below as a rate; FindMax sets each step's
	} else if o.QPS, err = parseQPS(f.qps); err != nil {
		return o, nil, err
	}
	if err := o.Validate(); err != nil {
		return o, nil, asUsageError(err)
	}
	if !f.findMax {
		return o, nil, nil
	}
	s := &loadgen.SearchOptions{
		SLO:         loadgen.SLO{P99: f.sloP99, Basis: loadgen.LatencyBasis(f.sloBasis)},
		StartQPS:    f.startQPS,
		MaxQPS:      f.maxQPS,
		Precision:   f.precision,
		MaxSteps:    f.maxSteps,
		MaxTime:     f.maxTime,
		FailRetries: f.retries,
	}
	if f.startQPS <= 0 {
		return o, nil, flagError("start-qps", "expected a positive rate, got %g", f.startQPS)
	}
	if err := s.Validate(); err != nil {
		return o, nil, asUsageError(err)
	}
	return o, s, nil
}

// parseQPS accepts a positive rate or "max".
func parseQPS(s string) (float64, error) {
	if strings.EqualFold(s, "max") {
		return loadgen.MaxRate, nil
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || v <= 0 || v != v || v > 1e9 {
		return 0, flagError("qps", "expected a positive rate or max, got %q", s)
	}
	return v, nil
}

// asUsageError turns loadgen's field errors into one-line usage errors that
// name the flag (or the URL argument).
func asUsageError(err error) error {
	var fe *loadgen.FieldError
	switch {
	case errors.As(err, &fe) && fe.Field == "url":
		return badInput("URL: %s", fe.Msg)
	case errors.As(err, &fe):
		return flagError(fe.Field, "%s", fe.Msg)
	case loadgen.IsUnreachable(err):
		return badInput("%v", err)
	}
	return err
}

func runLoad(c *cobra.Command, f loadFlags, o loadgen.Options, search *loadgen.SearchOptions) error {
	// fortio logs every run and every failed call; the summary has them.
	fortiolog.SetLogLevelQuiet(fortiolog.Critical)
	ctx, stop, received := signalContext(c.Context())
	defer stop()
	// A dead target is bad input: say so before any load, within the timeout.
	if err := loadgen.CheckReachable(ctx, o.URL, o.ConnectTimeout); err != nil {
		if ctx.Err() != nil {
			return interruptedError{"interrupted before any load", received()}
		}
		return asUsageError(err)
	}
	stderr := c.ErrOrStderr()
	var progress *loadgen.ProgressPrinter
	if !f.noProgress {
		progress = loadgen.NewProgressPrinter(stderr, isTerminal(stderr))
		o.Progress = progress.Update
		defer progress.Done()
	}
	var err error
	if search == nil {
		err = runOnce(ctx, c.OutOrStdout(), f, o, progress)
	} else {
		err = runSearch(ctx, c.OutOrStdout(), f, o, *search, progress)
	}
	if ctx.Err() != nil && c.Context().Err() == nil {
		return interruptedError{"interrupted: the figures so far are printed (and in --out, marked interrupted)", received()}
	}
	return err
}

// loadSummaryFile is the summary a load run leaves in --out.
const loadSummaryFile = "summary.json"

// loadSummary is summary.json of a single run: the run's summary, and
// whether a signal cut it short.
type loadSummary struct {
	loadgen.Summary
	Interrupted bool `json:"interrupted"`
}

// saveLoad writes fortio's JSON of each run and summary.json into dir, all
// of them or none (results.Stage), into a directory of ours only.
func saveLoad(dir string, runs map[string]*loadgen.Result, summary any) error {
	st, err := results.NewStage(dir, []string{loadSummaryFile}, nil)
	if err != nil {
		return flagError("out", "%v", err)
	}
	defer st.Discard()
	names := []string{loadSummaryFile}
	for name, res := range runs {
		if name == "" {
			name = res.Fortio().Result().ID
		}
		data, err := res.FortioJSON()
		if err != nil {
			return err
		}
		if err := results.WriteFileAtomic(filepath.Join(st.Dir(), name+".json"), data); err != nil {
			return flagError("out", "%v", err)
		}
		names = append(names, name+".json")
	}
	data, err := json.MarshalIndent(summary, "", "  ")
	if err != nil {
		return err
	}
	if err := results.WriteFileAtomic(filepath.Join(st.Dir(), loadSummaryFile), append(data, '\n')); err != nil {
		return flagError("out", "%v", err)
	}
	if err := st.Commit(names); err != nil {
		return flagError("out", "%v", err)
	}
	return nil
}

// errEveryCallFailed is a run that measured nothing: exit 1, after its
// figures are printed and saved.
var errEveryCallFailed = errors.New("every call failed: see the errors and codes above")

func runOnce(ctx context.Context, stdout io.Writer, f loadFlags, o loadgen.Options, progress *loadgen.ProgressPrinter) error {
	res, err := loadgen.Run(ctx, o)
	if progress != nil {
		progress.Done()
	}
	if err != nil && (res == nil || ctx.Err() == nil) {
		return runError(ctx, err)
	}
	if f.out != "" {
		if serr := saveLoad(f.out, map[string]*loadgen.Result{"": res}, loadSummary{res.Summary, ctx.Err() != nil}); serr != nil {
			return serr
		}
	}
	if werr := writeRunSummary(stdout, f.output, res.Summary); werr != nil {
		return werr
	}
	if err == nil && res.Summary.Requests > 0 && res.Summary.Errors == res.Summary.Requests {
		return errEveryCallFailed
	}
	return runError(ctx, err) // interrupted: the partial figures are printed
}

// findMaxReport is `load --find-max -o json`: the best step's summary fields
// at the top level (absent when no step passed), then the search.
type findMaxReport struct {
	*loadgen.Summary
	MaxRPS         float64        `json:"max_rps"`
	LowestFailQPS  float64        `json:"lowest_fail_qps"`
	SLOP99Ms       float64        `json:"slo_p99_ms"`
	SLOBasis       string         `json:"slo_basis"`
	Converged      bool           `json:"converged"`
	StopReason     string         `json:"stop_reason"`
	Steps          []loadgen.Step `json:"steps"`
	SearchWarnings []string       `json:"search_warnings"`
	// Interrupted says a signal cut the search short.
	Interrupted bool `json:"interrupted"`
}

func runSearch(ctx context.Context, stdout io.Writer, f loadFlags, o loadgen.Options, s loadgen.SearchOptions,
	progress *loadgen.ProgressPrinter,
) error {
	step := 0
	runner := loadgen.RunnerFor(o, func(qps float64) {
		step++
		if progress != nil {
			progress.SetPrefix(fmt.Sprintf("step %d @ %.0f qps: ", step, qps))
		}
	})
	s.OnStep = func(st loadgen.Step) {
		if progress != nil {
			verdict := "pass"
			if !st.Pass {
				verdict = "fail: " + strings.Join(st.FailReasons, "; ")
			}
			progress.Println(fmt.Sprintf("step %d @ %.0f qps: %s", st.N, st.RequestedQPS, verdict))
		}
	}
	res, err := loadgen.FindMax(ctx, s, runner)
	if progress != nil {
		progress.Done()
	}
	if res == nil {
		return runError(ctx, err)
	}
	report := findMaxReport{
		MaxRPS: res.MaxRPS, LowestFailQPS: res.LowestFailQPS,
		SLOP99Ms: float64(s.SLO.P99) / float64(time.Millisecond), SLOBasis: string(s.SLO.Basis),
		Converged: res.Converged, StopReason: res.StopReason, Steps: res.Steps, SearchWarnings: res.Warnings,
	}
	if report.SLOBasis == "" {
		report.SLOBasis = string(loadgen.IntendedLatency)
	}
	if res.Best != nil {
		report.Summary = &res.Best.Summary
	}
	report.Interrupted = ctx.Err() != nil
	if f.out != "" {
		runs := map[string]*loadgen.Result{}
		for _, st := range res.Steps {
			runs[fmt.Sprintf("step-%02d-%.0fqps", st.N, st.RequestedQPS)] = st.Result
		}
		if serr := saveLoad(f.out, runs, report); serr != nil {
			return serr
		}
	}
	if werr := writeSearchReport(stdout, f.output, report); werr != nil {
		return werr
	}
	if err == nil && len(res.Steps) > 0 && everyCallFailed(res.Steps) {
		return errEveryCallFailed
	}
	return runError(ctx, err)
}

// runError words a failure during load; an interruption is not bad input.
func runError(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	if ctx.Err() != nil {
		return errors.New("interrupted; figures so far are printed")
	}
	return err
}

func writeRunSummary(w io.Writer, output string, s loadgen.Summary) error {
	if output == "json" {
		return writeJSON(w, s)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	rate := "max"
	if !s.MaxRate {
		rate = fmt.Sprintf("%g qps", s.RequestedQPS)
	}
	fmt.Fprintf(tw, "target\t%s (%s, %d connections, %.1fs measured after %.1fs warm-up)\n",
		s.URL, s.Protocol, s.Connections, s.DurationSeconds, s.WarmupSeconds)
	fmt.Fprintf(tw, "rate\t%s requested, %.1f qps achieved", rate, s.ActualQPS)
	if !s.MaxRate {
		fmt.Fprintf(tw, " (%.3f of schedule)", s.AchievedRatio)
	}
	fmt.Fprintln(tw)
	l := s.LatencyMs
	fmt.Fprintf(tw, "latency\tp50 %.3fms  p90 %.3fms  p99 %.3fms  p99.9 %.3fms  (fortio: from actual send)\n", l.P50, l.P90, l.P99, l.P999)
	if il := s.IntendedLatencyMs; il != nil {
		fmt.Fprintf(tw, "intended\tp50 %.3fms  p90 %.3fms  p99 %.3fms  p99.9 %.3fms  (from intended send)\n", il.P50, il.P90, il.P99, il.P999)
	}
	fmt.Fprintf(tw, "errors\t%d of %d calls (%.2f%%)\n", s.Errors, s.Requests, 100*s.ErrorRatio)
	fmt.Fprintf(tw, "generator\t%.2f of %.0f cores\n", s.GeneratorCPUCores, s.GeneratorCPUCapacity)
	if s.Valid {
		fmt.Fprintf(tw, "valid\tyes\n")
	} else {
		fmt.Fprintf(tw, "valid\tNO: %s\n", strings.Join(s.InvalidReasons, "; "))
	}
	for _, warning := range s.Warnings {
		fmt.Fprintf(tw, "warning\t%s\n", warning)
	}
	return tw.Flush()
}

func writeSearchReport(w io.Writer, output string, r findMaxReport) error {
	if output == "json" {
		return writeJSON(w, r)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "step\trequested\tachieved\tp99 ms\tintended p99 ms\terrors\tresult")
	for _, st := range r.Steps {
		intended := "-"
		if st.IntendedLatencyMs != nil {
			intended = fmt.Sprintf("%.3f", st.IntendedLatencyMs.P99)
		}
		verdict := "pass"
		if !st.Pass {
			verdict = "fail: " + strings.Join(st.FailReasons, "; ")
		}
		n := strconv.Itoa(st.N)
		if st.Attempt > 1 {
			n += " (retry)"
		}
		fmt.Fprintf(tw, "%s\t%.1f\t%.1f\t%.3f\t%s\t%.2f%%\t%s\n", n, st.RequestedQPS, st.ActualQPS,
			st.LatencyMs.P99, intended, 100*st.ErrorRatio, verdict)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	slo := "the validity gates"
	if r.SLOP99Ms > 0 {
		slo = fmt.Sprintf("p99 <= %gms (%s latency) and the validity gates", r.SLOP99Ms, r.SLOBasis)
	}
	if r.MaxRPS == 0 {
		fmt.Fprintf(w, "no rate met %s (stopped: %s)\n", slo, r.StopReason)
	} else {
		fmt.Fprintf(w, "max %.1f qps meets %s; %.1f qps does not (stopped: %s after %d steps)\n",
			r.MaxRPS, slo, r.LowestFailQPS, r.StopReason, len(r.Steps))
	}
	for _, warning := range r.SearchWarnings {
		fmt.Fprintf(w, "warning: %s\n", warning)
	}
	return nil
}

// everyCallFailed: no step of the search had one call succeed.
func everyCallFailed(steps []loadgen.Step) bool {
	for _, st := range steps {
		if st.Requests == 0 || st.Errors < st.Requests {
			return false
		}
	}
	return true
}
