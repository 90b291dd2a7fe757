package loadgen

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"fortio.org/fortio/fgrpc"
	"fortio.org/fortio/fhttp"
	"fortio.org/fortio/periodic"
	"fortio.org/fortio/stats"
	"fortio.org/fortio/version"
	"google.golang.org/grpc/metadata"
)

// Result is one run: the proxysizer summary and fortio's full result.
type Result struct {
	Summary Summary
	// Exactly one of HTTP and GRPC is set, by protocol. They are fortio's
	// result types, whose JSON `fortio report` reads.
	HTTP *fhttp.HTTPRunnerResults
	GRPC *fgrpc.GRPCRunnerResults
	// Intended is the intended-start latency histogram, and Schedule how
	// the schedule was kept; both nil at max rate. They are kept so that
	// the runs of several generators merge exactly (MergeResults).
	Intended *stats.HistogramData
	Schedule *ScheduleCounts
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

// Run checks that the target is reachable, opens the connections, runs the
// warm-up on them (its figures are dropped), then the measured run, and
// judges its validity. Cancelling ctx stops the run within about one call:
// the partial result is returned with ctx's error (no result when calls in
// flight do not end within a second).
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
	p, err := openPool(ctx, o)
	if err != nil {
		return nil, err
	}
	defer p.close()
	if o.Warmup > 0 {
		if _, err := p.runPhase(ctx, PhaseWarmup, o.Warmup); err != nil {
			return nil, err
		}
		p.t.resetFigures()
	}
	meter := startCPUMeter()
	run, err := p.runPhase(ctx, PhaseMeasure, o.Duration)
	if run == nil {
		return nil, err
	}
	res := p.result(run)
	res.Summary = summarize(o, res, meter)
	res.Summary.GeneratorRealtime = run.realtime
	return res, err
}

// result builds fortio's result of a phase, as fortio's own runners would.
func (p *pool) result(run *phaseRun) *Result {
	o := p.o
	duration, errs, intended, elapsed := run.merged()
	rr := periodic.RunnerResults{
		RunType:                 "HTTP",
		Labels:                  o.Labels,
		StartTime:               run.start,
		RequestedQPS:            "max",
		RequestedDuration:       o.Duration.String(),
		ActualDuration:          elapsed,
		NumThreads:              p.t.connections(),
		Version:                 version.Short(),
		DurationHistogram:       duration.Export().CalcPercentiles(reportedPercentiles),
		ErrorsDurationHistogram: errs.Export().CalcPercentiles(reportedPercentiles),
		Uniform:                 o.QPS > 0 && o.Arrival.Kind == Uniform,
		AccessLoggerInfo:        engineInfo(o, p.t.connections()),
	}
	if elapsed > 0 {
		rr.ActualQPS = float64(duration.Count) / elapsed.Seconds()
	}
	if o.QPS > 0 {
		rr.RequestedQPS = strconv.FormatFloat(o.QPS, 'f', -1, 64)
	}
	ids := periodic.RunnerOptions{Labels: o.Labels}
	ids.GenID()
	rr.ID = ids.ID
	res := p.t.fortioResult(rr)
	res.Schedule = run.schedule()
	if intended != nil {
		res.Intended = intended.Export().CalcPercentiles(reportedPercentiles)
	}
	return res
}

// engineInfo says in fortio's result how the calls were made, where fortio
// names its access logger.
func engineInfo(o Options, connections int) string {
	how := "fortio's clients"
	if eventLoopTransport(o) {
		how = "HTTP/1.1 event loops"
	}
	if o.QPS <= 0 {
		return fmt.Sprintf("proxysizer load engine (%s): max rate, closed loop on %d connections", how, connections)
	}
	return fmt.Sprintf("proxysizer load engine (%s): %s arrivals, open loop on %d connections", how, o.Arrival, connections)
}

func (t *callerTransport) fortioResult(rr periodic.RunnerResults) *Result {
	if t.http == nil {
		return &Result{GRPC: t.grpcResult(rr)}
	}
	res := &fhttp.HTTPRunnerResults{RunnerResults: rr, HTTPOptions: *t.http,
		RetCodes: map[int]int64{}, IPCountMap: map[string]int{}}
	sizes, headerSizes := stats.NewHistogram(0, 100), stats.NewHistogram(0, 5)
	connStats := stats.NewHistogram(0, histogramResolution)
	for _, c := range t.callers {
		hc := c.(*httpCaller)
		for code, n := range hc.codes {
			res.RetCodes[code] += n
		}
		sizes.Transfer(hc.sizes)
		headerSizes.Transfer(hc.headerSizes)
		occurrence, conns := hc.client.GetIPAddress()
		occurrence.AggregateAndToString(res.IPCountMap)
		res.Sockets = append(res.Sockets, conns.Count)
		res.SocketCount += conns.Count
		connStats.Transfer(conns.Clone())
	}
	res.Sizes, res.HeaderSizes = sizes.Export(), headerSizes.Export()
	res.ConnectionStats = connStats.Export().CalcPercentiles(reportedPercentiles)
	return &Result{HTTP: res}
}

func (t *callerTransport) grpcResult(rr periodic.RunnerResults) *fgrpc.GRPCRunnerResults {
	rr.RunType = "GRPC Ping"
	if t.o.PayloadSize > 0 {
		rr.RunType += fmt.Sprintf(" PayloadLength=%d", t.o.PayloadSize)
	}
	res := &fgrpc.GRPCRunnerResults{RunnerResults: rr, RetCodes: fgrpc.HealthResultMap{},
		Destination: t.o.URL, Streams: 1, Ping: true, Metadata: metadata.MD{}}
	for _, c := range t.callers {
		gc := c.(*grpcCaller)
		for code, n := range gc.codes {
			res.RetCodes[code] += n
		}
		res.Metadata = gc.md
	}
	return res
}

// summarize turns a measured run into the contract summary.
func summarize(o Options, res *Result, meter cpuMeter) Summary {
	rr := res.Fortio().Result()
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
		GeneratorCPUCores:    meter.cores(),
		GeneratorCPUCapacity: generatorCPUCapacity(),
		Warnings:             []string{},
	}
	if !s.MaxRate {
		s.Arrival = o.Arrival.String()
	}
	if wait, ok := meter.cpuWait(); ok {
		s.GeneratorCPUWaitSeconds = wait.Seconds()
	}
	s.countCalls(rr.DurationHistogram, rr.ErrorsDurationHistogram)
	if res.HTTP != nil {
		s.Codes = codesFromHTTP(res.HTTP.RetCodes)
	} else {
		s.Codes = codesFromGRPC(res.GRPC.RetCodes)
	}
	s.judgeSchedule(res)
	if o.QPS > 0 && o.Arrival.Kind == Burst && o.Connections < o.Arrival.Burst {
		s.Warnings = append(s.Warnings, fmt.Sprintf(
			"%d connections cannot start a burst of %d calls at once: the rest wait for a connection", o.Connections, o.Arrival.Burst))
	}
	applyValidity(&s, o.Limits)
	return s
}

// judgeSchedule fills the schedule figures of a fixed-rate run from the
// result's intended latency and schedule counts.
func (s *Summary) judgeSchedule(res *Result) {
	if res.Schedule == nil || res.Intended == nil {
		return
	}
	intended := latencyFrom(res.Intended)
	s.IntendedLatencyMs = &intended
	s.AchievedRatio = res.Schedule.achievedRatio()
	s.BehindRatio, s.BehindBusyRatio = res.Schedule.behind()
	s.DroppedCalls = res.Schedule.Dropped
}

// IsUnreachable reports whether err is a target that could not be connected to.
func IsUnreachable(err error) bool {
	var ue *UnreachableError
	return errors.As(err, &ue)
}
