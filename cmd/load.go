package cmd

import (
	"errors"
	"io"
	"strconv"
	"strings"
	"time"

	fortiolog "fortio.org/log"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/proxysizer/proxysizer/loadgen"
)

func init() { register(newLoadCmd) }

// loadFlags holds load's raw flag values; job validates them.
type loadFlags struct {
	qps, connections, arrival string
	expectedLatency           time.Duration
	duration, warmup          time.Duration
	protocol                  string
	payloadSize               int
	headers                   []string
	labels                    string
	connectTimeout            time.Duration
	requestTimeout            time.Duration
	maxErrorRatio             float64

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
	noRealtime bool
	serve      string
}

// searchOnlyFlags make sense only with --find-max.
var searchOnlyFlags = []string{"slo-p99", "slo-basis", "start-qps", "max-qps", "precision", "max-steps", "max-time", "fail-retries"}

// loadFlagOf names the flag that sets each option loadgen can reject.
var loadFlagOf = map[loadgen.Field]string{
	loadgen.FieldProtocol: "protocol", loadgen.FieldQPS: "qps", loadgen.FieldArrival: "arrival",
	loadgen.FieldConnections: "connections", loadgen.FieldExpectedLatency: "expected-latency",
	loadgen.FieldDuration: "duration", loadgen.FieldWarmup: "warmup",
	loadgen.FieldPayloadSize: "payload-size", loadgen.FieldHeaders: "header",
	loadgen.FieldRequestTimeout: "request-timeout", loadgen.FieldConnectTimeout: "connect-timeout",
	loadgen.FieldMaxErrorRatio: "max-error-ratio", loadgen.FieldSLOP99: "slo-p99", loadgen.FieldSLOBasis: "slo-basis",
	loadgen.FieldStartQPS: "start-qps", loadgen.FieldMaxQPS: "max-qps", loadgen.FieldPrecision: "precision",
	loadgen.FieldMaxSteps: "max-steps", loadgen.FieldMaxTime: "max-time", loadgen.FieldFailRetries: "fail-retries",
	loadgen.FieldSaveDir: "out",
}

func newLoadCmd() *cobra.Command {
	var f loadFlags
	c := &cobra.Command{
		Use:   "load URL",
		Short: "Load a target: one run, or the highest rate that meets an SLO",
		Long: `load sends HTTP/1.1, h2c or gRPC (fortio ping) load to URL with fortio's
clients and reports latency percentiles, achieved rate, errors, the
generator's own CPU use and whether the run is a valid measurement
(achieved/requested >= 0.97, errors <= --max-error-ratio, no more than 5% of
calls started over 1ms behind schedule). A fixed rate is open loop: each call
goes out when it is due (--arrival uniform, poisson or burst:N) on whichever
connection is free. Latency is reported from each call's actual send (as
fortio measures it) and from its intended send time, which counts the
queueing the first omits.

With --find-max it searches for the highest rate whose runs are valid and
whose p99 meets --slo-p99: doubling from --start-qps until a step fails, then
bisecting until within --precision.

With --serve ADDR it makes no run: it serves the load agent's API, which
remote callers (the Kubernetes backend's generator pods) drive.

Progress goes to stderr, results to stdout. --out DIR saves fortio's JSON of
every run (readable by fortio report) and summary.json.`,
		Example: `  proxysizer load http://127.0.0.1:8080/ --qps 1000 --duration 30s
  proxysizer load http://127.0.0.1:8080/ --qps 2000 --arrival poisson --connections 32
  proxysizer load http://127.0.0.1:8080/ --qps max --protocol h2c -o json
  proxysizer load http://127.0.0.1:8079 --protocol grpc --find-max --slo-p99 5ms --out results/
  proxysizer load --serve :8077`,
		Args: func(c *cobra.Command, args []string) error {
			if f.serve != "" && len(args) > 0 {
				return flagError("serve", "takes no URL: each run's target comes with its request")
			}
			if f.serve != "" {
				return nil
			}
			return cobra.ExactArgs(1)(c, args)
		},
		RunE: func(c *cobra.Command, args []string) error {
			if f.serve != "" {
				return serveLoadAgent(c, f)
			}
			job, err := f.job(c, args[0])
			if err != nil {
				return err
			}
			if stderr := c.ErrOrStderr(); !f.noProgress {
				job.Progress = loadgen.NewProgressPrinter(stderr, isTerminal(stderr))
			}
			return runLoad(c, f.output, job)
		},
	}
	fl := c.Flags()
	fl.StringVar(&f.qps, "qps", "100", `requested rate across all connections, or "max" for as fast as possible`)
	fl.StringVar(&f.connections, "connections", "auto", `concurrent connections, or "auto": enough for the rate when calls take up to --expected-latency (32 at max rate)`)
	fl.DurationVar(&f.expectedLatency, "expected-latency", loadgen.DefaultExpectedLatency, "with --connections auto: how long calls may take for the pool to carry the rate without queueing")
	fl.StringVar(&f.arrival, "arrival", string(loadgen.Uniform), "how a fixed rate spaces its calls: uniform, poisson, or burst:N (N calls at once)")
	fl.DurationVar(&f.duration, "duration", loadgen.DefaultDuration, "measured duration of each run")
	fl.DurationVar(&f.warmup, "warmup", loadgen.DefaultWarmup, "warm-up at the same rate on the same connections before each measured run, excluded from the figures (0: none)")
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
	fl.IntVar(&f.retries, "fail-retries", loadgen.DefaultFailRetries, "with --find-max: re-measure a failing rate this many times before taking the failure (0-5)")
	fl.StringVar(&f.out, "out", "", "directory to save fortio's JSON of each run and summary.json")
	fl.StringVarP(&f.output, "output", "o", "text", "text or json")
	fl.BoolVar(&f.noProgress, "no-progress", false, "no progress on stderr")
	fl.BoolVar(&f.noRealtime, "no-realtime", false, "keep a fixed rate's HTTP/1.1 event loops at normal priority (by default real-time where allowed, so that other processes do not delay the calls)")
	fl.StringVar(&f.serve, "serve", "", "serve the load agent's API on this address (e.g. :8077) instead of making a run")
	return c
}

// job validates the flags into what loadgen runs.
func (f loadFlags) job(c *cobra.Command, url string) (loadgen.Job, error) {
	changed := c.Flags().Changed
	if err := f.checkCombinations(changed); err != nil {
		return loadgen.Job{}, err
	}
	// Zero would mean "default" to loadgen; on the command line it is a mistake.
	zeroable := []string{"duration", "connect-timeout", "request-timeout", "max-error-ratio", "expected-latency"}
	if f.findMax {
		zeroable = append(zeroable, "precision", "max-steps", "max-time")
	}
	if err := rejectZero(c.Flags(), zeroable...); err != nil {
		return loadgen.Job{}, err
	}
	o, err := f.options()
	if err != nil {
		return loadgen.Job{}, err
	}
	o.URL = url
	if f.findMax {
		o.QPS = f.startQPS // validated below as a rate; the search sets each step's
	}
	if err := o.Validate(); err != nil {
		return loadgen.Job{}, asUsageError(err)
	}
	if f.out != "" {
		if err := loadgen.CheckSaveDir(f.out); err != nil {
			return loadgen.Job{}, asUsageError(err)
		}
	}
	job := loadgen.Job{Options: o, SaveDir: f.out}
	if f.findMax {
		if job.Search, err = f.search(); err != nil {
			return loadgen.Job{}, err
		}
	}
	return job, nil
}

// checkCombinations rejects flags that do not go together.
func (f loadFlags) checkCombinations(changed func(string) bool) error {
	switch {
	case f.output != "text" && f.output != "json":
		return flagError("output", "expected text or json, got %q", f.output)
	case f.findMax && changed("qps"):
		return flagError("qps", "not used with --find-max, which picks the rates (see --start-qps)")
	case !f.findMax && strings.EqualFold(f.qps, "max") && changed("arrival"):
		return flagError("arrival", "applies only to a fixed rate, not --qps max")
	case changed("expected-latency") && !strings.EqualFold(f.connections, "auto"):
		return flagError("expected-latency", "applies only with --connections auto")
	}
	if !f.findMax {
		for _, name := range searchOnlyFlags {
			if changed(name) {
				return flagError(name, "applies only with --find-max")
			}
		}
	}
	return nil
}

// options parses the run's flags; loadgen validates the values.
func (f loadFlags) options() (loadgen.Options, error) {
	protocol, err := loadgen.ParseProtocol(f.protocol)
	if err != nil {
		return loadgen.Options{}, flagError("protocol", "%v", err)
	}
	arrival, err := loadgen.ParseArrival(f.arrival)
	if err != nil {
		return loadgen.Options{}, flagError("arrival", "%v", err)
	}
	connections, err := parseConnections(f.connections)
	if err != nil {
		return loadgen.Options{}, err
	}
	o := loadgen.Options{
		Protocol: protocol, Arrival: arrival, Connections: connections, ExpectedLatency: f.expectedLatency,
		Duration: f.duration, Warmup: f.warmup,
		PayloadSize: f.payloadSize, Headers: f.headers, Labels: f.labels,
		RequestTimeout: f.requestTimeout, ConnectTimeout: f.connectTimeout, NoRealtime: f.noRealtime,
		Limits: loadgen.Limits{MaxErrorRatio: f.maxErrorRatio},
	}
	if !f.findMax {
		o.QPS, err = parseQPS(f.qps)
	}
	return o, err
}

// search parses the --find-max flags.
func (f loadFlags) search() (*loadgen.SearchOptions, error) {
	if f.startQPS <= 0 { // 0 would be the default to loadgen
		return nil, flagError("start-qps", "expected a positive rate, got %g", f.startQPS)
	}
	s := &loadgen.SearchOptions{
		SLO:      loadgen.SLO{P99: f.sloP99, Basis: loadgen.LatencyBasis(f.sloBasis)},
		StartQPS: f.startQPS, MaxQPS: f.maxQPS, Precision: f.precision, MaxSteps: f.maxSteps, MaxTime: f.maxTime,
		FailRetries: f.retries,
	}
	if err := s.Validate(); err != nil {
		return nil, asUsageError(err)
	}
	return s, nil
}

// rejectZero reports the first of the named flags set to zero.
func rejectZero(fl *pflag.FlagSet, names ...string) error {
	for _, name := range names {
		if v := fl.Lookup(name).Value.String(); v == "0" || v == "0s" {
			return flagError(name, "expected a positive value, got 0 (0 is not the default)")
		}
	}
	return nil
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

// parseConnections accepts a count or "auto" (0 to loadgen: sized from the
// rate).
func parseConnections(s string) (int, error) {
	if strings.EqualFold(s, "auto") {
		return 0, nil
	}
	n, err := strconv.Atoi(s)
	switch {
	case err != nil:
		return 0, flagError("connections", "expected a number of connections or auto, got %q", s)
	case n == 0:
		return 0, flagError("connections", "expected a positive value, got 0 (0 is not the default)")
	}
	return n, nil // loadgen checks the range
}

// asUsageError turns loadgen's field errors into one-line usage errors that
// name the flag (or the URL argument).
func asUsageError(err error) error {
	var fe *loadgen.FieldError
	switch {
	case errors.As(err, &fe) && fe.Field == loadgen.FieldURL:
		return badInput("URL: %s", fe.Msg)
	case errors.As(err, &fe) && loadFlagOf[fe.Field] != "":
		return flagError(loadFlagOf[fe.Field], "%s", fe.Msg)
	case errors.As(err, &fe):
		return badInput("%v", err)
	case loadgen.IsUnreachable(err):
		return badInput("%v", err)
	}
	return err
}

func runLoad(c *cobra.Command, output string, job loadgen.Job) error {
	// fortio logs every run and every failed call; the summary has them.
	fortiolog.SetLogLevelQuiet(fortiolog.Critical)
	ctx, stop, received := signalContext(c.Context())
	defer stop()
	// A dead target is bad input: say so before any load, within the timeout.
	if err := loadgen.CheckReachable(ctx, job.Options.URL, job.Options.ConnectTimeout); err != nil {
		if ctx.Err() != nil {
			return interruptedError{"interrupted before any load", received()}
		}
		return asUsageError(err)
	}
	report, err := job.Do(ctx)
	if report != nil {
		if werr := writeLoadReport(c.OutOrStdout(), output, report); werr != nil {
			return werr
		}
	}
	if ctx.Err() != nil && c.Context().Err() == nil {
		return interruptedError{"interrupted: the figures so far are printed (and in --out, marked interrupted)", received()}
	}
	return asUsageError(err)
}

func writeLoadReport(w io.Writer, output string, r *loadgen.Report) error {
	switch {
	case output == "json" && r.Search != nil:
		return writeJSON(w, r.Search)
	case output == "json":
		return writeJSON(w, r.Run.Summary)
	case r.Search != nil:
		return r.Search.WriteText(w)
	}
	return r.Run.Summary.WriteText(w)
}

// serveLoadAgent is `load --serve ADDR`: the agent's API until SIGINT or
// SIGTERM. Each run's options come with its request, so no other flag
// applies.
func serveLoadAgent(c *cobra.Command, f loadFlags) error {
	var stray error
	c.Flags().Visit(func(fl *pflag.Flag) {
		if stray == nil && fl.Name != "serve" {
			stray = flagError(fl.Name, "not used with --serve (each run's options come with its request)")
		}
	})
	if stray != nil {
		return stray
	}
	fortiolog.SetLogLevelQuiet(fortiolog.Critical)
	ctx, stop, _ := signalContext(c.Context())
	defer stop()
	if err := loadgen.ServeAgent(ctx, f.serve, c.ErrOrStderr()); err != nil {
		return flagError("serve", "%v", err)
	}
	return nil
}
