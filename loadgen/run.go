package loadgen

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"fortio.org/fortio/fgrpc"
	"fortio.org/fortio/fhttp"
	"fortio.org/fortio/periodic"
	"google.golang.org/grpc/metadata"
)

// Result is one run: the proxysizer summary and fortio's full result.
type Result struct {
	Summary Summary
	// Exactly one of HTTP and GRPC is set, by protocol. They are fortio's
	// own results, whose JSON `fortio report` reads.
	HTTP *fhttp.HTTPRunnerResults
	GRPC *fgrpc.GRPCRunnerResults
}

// Fortio returns fortio's result, whichever protocol ran.
func (r *Result) Fortio() periodic.HasRunnerResult {
	if r.GRPC != nil {
		return r.GRPC
	}
	return r.HTTP
}

// FortioJSON is fortio's result as fortio itself saves it.
func (r *Result) FortioJSON() ([]byte, error) {
	return json.MarshalIndent(r.Fortio(), "", "  ")
}

// Run checks that the target is reachable, runs the warm-up (a separate run
// at the same rate whose figures are dropped), then the measured run, and
// judges its validity. Cancelling ctx stops the run within about one call:
// the partial result is returned with ctx's error.
//
// An error means no valid measurement could be attempted (bad options, an
// unreachable target, a client that fortio could not build). A run that was
// made but failed its gates is not an error: see Summary.Valid.
func Run(ctx context.Context, o Options) (*Result, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	o = o.withDefaults()
	if err := CheckReachable(ctx, o.URL, o.ConnectTimeout); err != nil {
		return nil, err
	}
	if o.Warmup > 0 {
		if _, err := runPhase(ctx, o, PhaseWarmup, o.Warmup); err != nil {
			if ctxErr := ctx.Err(); ctxErr != nil {
				return nil, ctxErr
			}
			return nil, fmt.Errorf("warm-up: %w", err)
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
	}
	meter := startCPUMeter()
	ph, err := runPhase(ctx, o, PhaseMeasure, o.Duration)
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return nil, ctxErr
		}
		return nil, err
	}
	res := ph.result
	res.Summary = summarize(o, ph, meter.cores())
	return res, ctx.Err()
}

// phaseRun is what one fortio run leaves behind.
type phaseRun struct {
	result   *Result
	recorder *callRecorder
	sched    *schedule
}

// runPhase makes one fortio run of the given length with o's rate and
// connections.
func runPhase(ctx context.Context, o Options, phase Phase, duration time.Duration) (*phaseRun, error) {
	var sched *schedule
	qps := -1.0 // fortio's max-rate
	if o.QPS > 0 {
		qps = o.QPS
		s := fortioSchedule(o.QPS, duration, o.Connections, true)
		sched = &s
	}
	recorder := newCallRecorder(ctx, o.Connections, sched)
	// Our own Aborter: fortio then installs no SIGINT handler of its own
	// (the command owns signals) and ctx can stop the run.
	aborter := periodic.NewAborter()
	runner := periodic.RunnerOptions{
		QPS:          qps,
		Duration:     duration,
		NumThreads:   o.Connections,
		Percentiles:  reportedPercentiles,
		Resolution:   histogramResolution,
		Out:          io.Discard, // fortio's text report; the JSON has it all
		Labels:       o.Labels,
		Stop:         aborter,
		Uniform:      sched != nil, // stagger connections instead of firing them in bursts
		AccessLogger: recorder,
	}
	stopWatching := watchRun(ctx, aborter, recorder, o, phase, duration)
	defer stopWatching()

	type outcome struct {
		res *Result
		err error
	}
	done := make(chan outcome, 1) // buffered: an abandoned run must not block
	go func() {
		res := &Result{}
		var err error
		switch o.Protocol {
		case GRPC:
			res.GRPC, err = runGRPC(o, runner)
		default:
			res.HTTP, err = runHTTP(o, runner)
		}
		done <- outcome{res, err}
	}()
	var out outcome
	select {
	case out = <-done:
	case <-ctx.Done():
		// The aborter stops fortio between calls, and calls in flight see
		// ctx where the client honours it. fortio's own first call per
		// connection, made before the run starts, does not: rather than wait
		// up to the request timeout for it, give up on the run and let that
		// goroutine end on its own.
		select {
		case out = <-done:
		case <-time.After(abortGrace):
			return nil, ctx.Err()
		}
	}
	if out.err != nil {
		return nil, out.err
	}
	return &phaseRun{result: out.res, recorder: recorder, sched: sched}, nil
}

// abortGrace is how long a cancelled run waits for fortio to return its
// partial result.
const abortGrace = time.Second

// watchRun aborts the fortio run when ctx is done and reports progress until
// the returned stop function is called.
func watchRun(ctx context.Context, aborter *periodic.Aborter, rec *callRecorder, o Options,
	phase Phase, duration time.Duration,
) (stop func()) {
	done := make(chan struct{})
	finished := make(chan struct{})
	start := time.Now()
	go func() {
		defer close(finished)
		var tick <-chan time.Time
		if o.Progress != nil {
			t := time.NewTicker(o.ProgressInterval)
			defer t.Stop()
			tick = t.C
		}
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				aborter.Abort(false)
				return
			case <-tick:
				o.Progress(Progress{Phase: phase, Elapsed: time.Since(start), Duration: duration,
					Calls: rec.completed.Load(), RequestedQPS: o.QPS})
			}
		}
	}()
	return func() {
		close(done)
		<-finished
	}
}

func runHTTP(o Options, runner periodic.RunnerOptions) (*fhttp.HTTPRunnerResults, error) {
	ho := fhttp.HTTPOptions{
		URL:            o.URL,
		HTTPReqTimeOut: o.RequestTimeout,
	}
	if o.Protocol == H2C {
		ho.H2 = true
		ho.DisableFastClient = true // fortio's fast client speaks HTTP/1.x only
	}
	if o.PayloadSize > 0 {
		ho.Payload = payload(o.PayloadSize)
	}
	for _, h := range o.Headers {
		if err := ho.AddAndValidateExtraHeader(h); err != nil {
			return nil, fieldErr("header", "%v", err)
		}
	}
	res, err := fhttp.RunHTTPTest(&fhttp.HTTPRunnerOptions{
		RunnerOptions: runner,
		HTTPOptions:   ho,
		// Failed first calls count as errors in the figures (and make the
		// run invalid) instead of aborting it: at a knee they are data.
		AllowInitialErrors: true,
	})
	if err != nil {
		return nil, fmt.Errorf("fortio http run: %w", err)
	}
	return res, nil
}

func runGRPC(o Options, runner periodic.RunnerOptions) (*fgrpc.GRPCRunnerResults, error) {
	target, err := ParseTarget(o.URL)
	if err != nil {
		return nil, err
	}
	dest := target.HostPort // fortio treats a bare host:port as plaintext
	if target.URL.Scheme == "https" {
		dest = "https://" + target.HostPort
	}
	md := metadata.MD{}
	for _, h := range o.Headers {
		name, value, _ := strings.Cut(h, ":")
		md.Append(strings.ToLower(strings.TrimSpace(name)), strings.TrimSpace(value))
	}
	gro := &fgrpc.GRPCRunnerOptions{
		RunnerOptions:      runner,
		Destination:        dest,
		UsePing:            true,
		Payload:            string(payload(o.PayloadSize)),
		Streams:            1,
		Metadata:           md,
		AllowInitialErrors: true,
	}
	res, err := fgrpc.RunGRPCTest(gro)
	if err != nil {
		return nil, fmt.Errorf("fortio grpc run: %w", err)
	}
	return res, nil
}

// payload is n printable bytes (valid UTF-8, so it also fits a gRPC string).
func payload(n int) []byte {
	const pattern = "proxysizer-load-payload-"
	if n <= 0 {
		return nil
	}
	return []byte(strings.Repeat(pattern, n/len(pattern)+1)[:n])
}

// summarize turns a measured fortio run into the contract summary.
func summarize(o Options, ph *phaseRun, cores float64) Summary {
	rr := ph.result.Fortio().Result()
	s := Summary{
		URL:                  o.URL,
		Protocol:             o.Protocol,
		Labels:               o.Labels,
		Connections:          rr.NumThreads,
		DurationSeconds:      rr.ActualDuration.Seconds(),
		WarmupSeconds:        o.Warmup.Seconds(),
		MaxRate:              o.QPS <= 0,
		RequestedQPS:         max(o.QPS, 0),
		ActualQPS:            rr.ActualQPS,
		LatencyMs:            latencyFrom(rr.DurationHistogram),
		GeneratorCPUCores:    cores,
		GeneratorCPUCapacity: generatorCPUCapacity(),
		Warnings:             []string{},
	}
	s.countCalls(rr.DurationHistogram, rr.ErrorsDurationHistogram)
	if ph.result.HTTP != nil {
		s.Codes = codesFromHTTP(ph.result.HTTP.RetCodes)
	} else {
		s.Codes = codesFromGRPC(ph.result.GRPC.RetCodes)
	}
	if ph.sched != nil {
		if ph.sched.threads == rr.NumThreads {
			intended := latencyFrom(ph.recorder.intendedHistogram().Export())
			s.IntendedLatencyMs = &intended
			s.BehindRatio = ph.recorder.behindRatio()
			s.AchievedRatio = ph.recorder.achievedRatio()
		} else {
			// Never expected: fortio changed how it splits calls.
			s.AchievedRatio = s.ActualQPS / s.RequestedQPS
			s.Warnings = append(s.Warnings, fmt.Sprintf(
				"intended-start latency unavailable: fortio ran %d threads, schedule expected %d",
				rr.NumThreads, ph.sched.threads))
		}
	}
	applyValidity(&s, o.Limits)
	return s
}

// IsUnreachable reports whether err is a target that could not be connected to.
func IsUnreachable(err error) bool {
	var ue *UnreachableError
	return errors.As(err, &ue)
}
