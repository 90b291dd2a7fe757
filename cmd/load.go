package cmd

import (
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	fortiolog "fortio.org/log"

	"github.com/proxysizer/proxysizer/internal/input"
	"github.com/proxysizer/proxysizer/loadgen"
)

func init() { register(newLoadCmd) }

func newLoadCmd() *cobra.Command {
	r := loadgen.DefaultRequest()
	output, noProgress, serve := "text", false, ""
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
			if serve != "" && len(args) > 0 {
				return flagError("serve", "takes no URL: each run's target comes with its request")
			}
			if serve != "" {
				return nil
			}
			return cobra.ExactArgs(1)(c, args)
		},
	}
	f := bindLoadFlags(c, &r)
	fl := c.Flags()
	fl.StringVarP(&output, "output", "o", output, "text or json")
	fl.BoolVar(&noProgress, "no-progress", false, "no progress on stderr")
	fl.StringVar(&serve, "serve", "", "serve the load agent's API on this address (e.g. :8077) instead of making a run")
	c.RunE = func(c *cobra.Command, args []string) error {
		if serve != "" {
			return serveLoadAgent(c, serve)
		}
		if !oneOf(output, "text", "json") {
			return flagError("output", "expected text or json, got %q", output)
		}
		r.URL, r.Given, r.Names = args[0], f.given(), loadNames(f)
		job, err := r.Job()
		if err != nil {
			return err
		}
		if stderr := c.ErrOrStderr(); !noProgress {
			job.Progress = loadgen.NewProgressPrinter(stderr, isTerminal(stderr))
		}
		return runLoad(c, output == "json", job)
	}
	return c
}

// loadNames shows load's inputs as its flags, and the target as the URL
// argument.
func loadNames(f fieldFlags) input.Names {
	return f.names(input.Names{loadgen.FieldURL: "URL", loadgen.FieldHeaders: "--header"})
}

func bindLoadFlags(c *cobra.Command, r *loadgen.Request) fieldFlags {
	f := newFieldFlags(c.Flags())
	f.bind(loadgen.FieldQPS, &r.QPS, "qps", `requested rate across all connections, or "max" for as fast as possible`)
	f.bind(loadgen.FieldConnections, &r.Connections, "connections", `concurrent connections, or "auto": enough for the rate when calls take up to --expected-latency (32 at max rate)`)
	f.bind(loadgen.FieldExpectedLatency, &r.ExpectedLatency, "expected-latency", "with --connections auto: how long calls may take for the pool to carry the rate without queueing")
	f.bind(loadgen.FieldArrival, &r.Arrival, "arrival", "how a fixed rate spaces its calls: uniform, poisson, or burst:N (N calls at once)")
	f.bind(loadgen.FieldDuration, &r.Duration, "duration", "measured duration of each run")
	f.bind(loadgen.FieldWarmup, &r.Warmup, "warmup", "warm-up at the same rate on the same connections before each measured run, excluded from the figures (0: none)")
	f.bind(loadgen.FieldProtocol, &r.Protocol, "protocol", "http1, h2c or grpc (fortio's ping service)")
	f.bind(loadgen.FieldPayloadSize, &r.PayloadSize, "payload-size", "request payload in bytes (HTTP: POST body; gRPC: ping payload)")
	c.Flags().StringArrayVarP(&r.Headers, "header", "H", nil, `extra header "Name: value" (repeatable; gRPC metadata for grpc)`)
	f.bind(loadgen.FieldLabels, &r.Labels, "labels", "labels stored in fortio's result")
	f.bind(loadgen.FieldConnectTimeout, &r.ConnectTimeout, "connect-timeout", "how long to wait for the target to accept a connection before any load")
	f.bind(loadgen.FieldRequestTimeout, &r.RequestTimeout, "request-timeout", "timeout of each HTTP call")
	f.bind(loadgen.FieldMaxErrorRatio, &r.MaxErrorRatio, "max-error-ratio", "highest share of failed calls in a valid run")
	f.bind(loadgen.FieldFindMax, &r.FindMax, "find-max", "search for the highest rate that meets the SLO")
	f.bind(loadgen.FieldSLOP99, &r.SLOP99, "slo-p99", "with --find-max: p99 latency objective, e.g. 5ms (0: validity gates only)")
	f.bind(loadgen.FieldSLOBasis, &r.SLOBasis, "slo-basis", "with --find-max: latency the SLO applies to: intended (from scheduled send) or service (fortio's)")
	f.bind(loadgen.FieldStartQPS, &r.StartQPS, "start-qps", "with --find-max: first rate tried")
	f.bind(loadgen.FieldMaxQPS, &r.MaxQPS, "max-qps", "with --find-max: highest rate tried")
	f.bind(loadgen.FieldPrecision, &r.Precision, "precision", "with --find-max: stop when the failing rate is within this ratio of the passing one")
	f.bind(loadgen.FieldMaxSteps, &r.MaxSteps, "max-steps", "with --find-max: most runs")
	f.bind(loadgen.FieldMaxTime, &r.MaxTime, "max-time", "with --find-max: no run starts that would end after this")
	f.bind(loadgen.FieldFailRetries, &r.FailRetries, "fail-retries", "with --find-max: re-measure a failing rate this many times before taking the failure (0-5)")
	f.bind(loadgen.FieldSaveDir, &r.SaveDir, "out", "directory to save fortio's JSON of each run and summary.json")
	f.bind(loadgen.FieldNoRealtime, &r.NoRealtime, "no-realtime", "keep a fixed rate's HTTP/1.1 event loops at normal priority (by default real-time where allowed, so that other processes do not delay the calls)")
	return f
}

// runLoad does the job, prints what it measured (also when interrupted),
// and maps its outcome to an exit status.
func runLoad(c *cobra.Command, asJSON bool, job loadgen.Job) error {
	// fortio logs every run and every failed call; the summary has them.
	fortiolog.SetLogLevelQuiet(fortiolog.Critical)
	ctx, stop, received := signalContext(c.Context())
	defer stop()
	report, err := job.Do(ctx)
	if report != nil {
		if werr := report.Write(c.OutOrStdout(), asJSON); werr != nil {
			return werr
		}
	}
	switch {
	case ctx.Err() != nil && c.Context().Err() == nil && report == nil:
		return interruptedError{"interrupted before any load", received()}
	case ctx.Err() != nil && c.Context().Err() == nil:
		return interruptedError{"interrupted: the figures so far are printed (and in --out, marked interrupted)", received()}
	case loadgen.IsUnreachable(err):
		return badInput("%v", err) // a dead target is bad input, said before any load
	}
	return err
}

// serveLoadAgent is `load --serve ADDR`: the agent's API until SIGINT or
// SIGTERM. Each run's options come with its request, so no other flag
// applies.
func serveLoadAgent(c *cobra.Command, addr string) error {
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
	if err := loadgen.ServeAgent(ctx, addr, c.ErrOrStderr()); err != nil {
		return flagError("serve", "%v", err)
	}
	return nil
}
