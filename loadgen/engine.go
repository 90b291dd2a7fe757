package loadgen

import (
	"context"
	"errors"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"fortio.org/fortio/fhttp"
	"fortio.org/fortio/periodic"
	"fortio.org/fortio/stats"
)

// The engine.
//
// A fixed-rate run is open loop: one dispatcher walks the schedule (plan)
// and, when each call is due, hands it to whichever connection is idle,
// through a channel the connections receive from in turn. A call waits only
// when every connection is busy. fortio's periodic runner, which this engine
// replaces, gave each connection its own share of the schedule and made its
// next call only after the last returned (closed loop): one slow reply then
// delayed every later call of that connection, and at thousands of qps on 8
// to 32 connections 18-59% of calls started more than 1 ms late against a
// server whose own p99 was 1-18 ms (issue 16). A max-rate run stays closed
// loop, every connection calling again as soon as its last call returns,
// which is what a maximum means.
//
// The engine keeps fortio's clients (fhttp's fast HTTP/1.1 client, its
// HTTP/2 client, fgrpc's ping client), its histograms and its result
// format, so `fortio report` still reads every run.

// ticket is one due call on its way to a connection: when it was due and
// when the dispatcher sent it, as offsets from the phase's start.
type ticket struct {
	due, sent time.Duration
}

// The dispatch interval is the shortest time a dispatcher sleeps: calls
// due within it of a wake-up go out with it, up to that late and never
// early. Up to batchingRate calls a second per dispatcher it is
// minDispatchInterval, which bounds wake-ups to 10,000 a second. Above, the
// wake-ups, not the calls, are what a fixed rate costs beyond a closed
// loop: each is the dispatcher's own sleep and the server's wake on the
// first write. Against nginx at 102,500 qps on one core (issue 16), waking
// every 100 us cost 8.5-9.2 us of the generator's CPU per call against 6.8
// us back to back, 0.88-0.95 of the core. So the interval grows in
// proportion to the rate, to maxDispatchInterval (a quarter of
// behindSlack) from 100,000 a second: 250 us there cost 8.0-8.5 us a call.
const (
	minDispatchInterval = 100 * time.Microsecond
	maxDispatchInterval = 250 * time.Microsecond
	batchingRate        = 40_000.0
)

// dispatchInterval is the dispatch interval of a dispatcher making qps
// calls a second.
func dispatchInterval(qps float64) time.Duration {
	if !(qps > batchingRate) { // NaN too
		return minDispatchInterval
	}
	d := time.Duration(float64(minDispatchInterval) * qps / batchingRate)
	return min(d, maxDispatchInterval)
}

// callsPerDispatch is how many calls a dispatcher at qps starts at once
// beyond the first, at most: those due within one dispatch interval.
func callsPerDispatch(qps float64) int {
	if !(qps > 0) {
		return 0
	}
	return int(math.Floor(qps * dispatchInterval(qps).Seconds()))
}

// maxSleep bounds one sleep of the dispatcher so that it sees a stop soon.
const maxSleep = 10 * time.Millisecond

// abortGrace is how long a cancelled phase waits for the calls in flight.
const abortGrace = time.Second

// drainGrace is how long after its end a phase still starts calls that
// were due within it and are waiting for a connection; those still waiting
// then are dropped, and count against the achieved rate.
func drainGrace(d time.Duration) time.Duration {
	return min(max(d/10, 100*time.Millisecond), time.Second)
}

// transport carries a run's calls over its connections: fortio's clients
// on a goroutine each (callerTransport), or the HTTP/1.1 event loops
// (loopTransport). A phase runs synchronously; stop ends it early.
type transport interface {
	connections() int
	// fixed makes the calls of the plan, each when due on an idle
	// connection, and returns when the last was due.
	fixed(pl *plan, d time.Duration, run *phaseRun, completed *atomic.Int64, stop *stopper) (time.Duration, error)
	// closedLoop calls back to back on every connection until d.
	closedLoop(d time.Duration, run *phaseRun, completed *atomic.Int64, stop *stopper) error
	// resetFigures drops the protocol figures kept so far (after the warm-up).
	resetFigures()
	// fortioResult is fortio's result for the protocol, around rr.
	fortioResult(rr periodic.RunnerResults) *Result
	close()
}

// pool is a run's connections: opened before the first phase, each used
// once untimed (as fortio's runner does, so that connection setup never
// counts in the figures), and kept across the warm-up and the measured
// phase.
type pool struct {
	o Options
	t transport
	// busy counts phases still running; close waits for them, in the
	// background when a cancelled phase gave up on its calls in flight.
	busy sync.WaitGroup
}

func openPool(ctx context.Context, o Options) (*pool, error) {
	var t transport
	var err error
	if eventLoopTransport(o) {
		t, err = newLoopTransport(ctx, o)
	} else {
		t, err = newCallerTransport(ctx, o)
	}
	if err != nil {
		return nil, err
	}
	return &pool{o: o, t: t}, nil
}

// close closes the connections once no phase uses them any more.
func (p *pool) close() {
	go func() {
		p.busy.Wait()
		p.t.close()
	}()
}

// runPhase runs one phase of the given length on the pool's connections.
// When ctx is cancelled it stops dispatching, lets the calls in flight end
// for up to abortGrace and returns what was measured with ctx's error; when
// they do not end in time it returns no figures.
func (p *pool) runPhase(ctx context.Context, phase Phase, d time.Duration) (*phaseRun, error) {
	fixedRate := p.o.QPS > 0
	run := &phaseRun{records: make([]callRecord, p.t.connections())}
	for i := range run.records {
		run.records[i] = newCallRecord(fixedRate)
	}
	stop := newStopper()
	var completed atomic.Int64
	stopWatching := p.watch(ctx, stop, &completed, phase, d)
	defer stopWatching()

	p.busy.Add(1)
	finished := make(chan error, 1)
	go func() {
		defer p.busy.Done()
		var err error
		if fixedRate {
			pl := newPlan(p.o.Arrival, p.o.QPS, d, p.o.Seed)
			run.planned = pl.calls
			run.plannedSpan, err = p.t.fixed(pl, d, run, &completed, stop)
		} else {
			err = p.t.closedLoop(d, run, &completed, stop)
		}
		stop.stop()
		finished <- err
	}()
	var err error
	select {
	case err = <-finished:
		return run, errors.Join(err, ctx.Err())
	case <-ctx.Done():
	}
	select {
	case err = <-finished:
		return run, errors.Join(err, ctx.Err())
	case <-time.After(abortGrace):
		// A call that ignores cancellation (fortio's HTTP/1.1 client reads
		// until its request timeout) is left to end on its own.
		return nil, ctx.Err()
	}
}

// watch stops the phase when ctx is done and reports progress, until the
// returned function is called.
func (p *pool) watch(ctx context.Context, stop *stopper, completed *atomic.Int64, phase Phase, d time.Duration) func() {
	done, finished := make(chan struct{}), make(chan struct{})
	start := time.Now()
	go func() {
		defer close(finished)
		var tick <-chan time.Time
		if p.o.Progress != nil {
			t := time.NewTicker(p.o.ProgressInterval)
			defer t.Stop()
			tick = t.C
		}
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				stop.stop()
				return
			case <-tick:
				p.o.Progress(Progress{Phase: phase, Elapsed: time.Since(start), Duration: d,
					Calls: completed.Load(), RequestedQPS: p.o.QPS})
			}
		}
	}()
	return func() { close(done); <-finished }
}

// callerTransport runs fortio's clients, one connection and one goroutine
// each: h2c, gRPC, https, and wherever there is no event loop.
type callerTransport struct {
	o       Options
	callers []caller
	http    *fhttp.HTTPOptions // nil for gRPC
}

// newCallerTransport makes the clients and their first, untimed call. A
// failed first call is not an error: at a knee it is data, and the run's
// figures will show the target failing.
func newCallerTransport(ctx context.Context, o Options) (*callerTransport, error) {
	t := &callerTransport{o: o}
	if o.Protocol != GRPC {
		ho, err := newHTTPOptions(o)
		if err != nil {
			return nil, err
		}
		t.http = ho
	}
	for i := range o.Connections {
		var c caller
		var err error
		if t.http != nil {
			c, err = newHTTPCaller(t.http, i)
		} else {
			c, err = newGRPCCaller(o, i)
		}
		if err != nil {
			t.close()
			return nil, err
		}
		t.callers = append(t.callers, c)
	}
	var first sync.WaitGroup
	for _, c := range t.callers {
		first.Go(func() { c.call(ctx) })
	}
	done := make(chan struct{})
	go func() { first.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		go func() { <-done; t.close() }()
		return nil, ctx.Err()
	}
	t.resetFigures()
	return t, nil
}

func (t *callerTransport) connections() int { return len(t.callers) }

func (t *callerTransport) fixed(pl *plan, d time.Duration, run *phaseRun, completed *atomic.Int64, stop *stopper) (time.Duration, error) {
	tickets := make(chan ticket, min(pl.calls, 1<<14))
	deadline := d + drainGrace(d)
	var workers sync.WaitGroup
	for i, c := range t.callers {
		workers.Go(func() { run.serve(c, tickets, deadline, &run.records[i], completed, stop) })
	}
	run.start = time.Now() // every connection waits for its first call: the schedule starts now
	lastDue := dispatch(pl, tickets, run.start, stop)
	close(tickets)
	workers.Wait()
	return lastDue, nil
}

func (t *callerTransport) closedLoop(d time.Duration, run *phaseRun, completed *atomic.Int64, stop *stopper) error {
	run.start = time.Now()
	var workers sync.WaitGroup
	for i, c := range t.callers {
		workers.Go(func() { run.loop(c, d, &run.records[i], completed, stop) })
	}
	workers.Wait()
	return nil
}

func (t *callerTransport) resetFigures() {
	for _, c := range t.callers {
		c.reset()
	}
}

func (t *callerTransport) close() {
	for _, c := range t.callers {
		c.close()
	}
}

// callRecord is what one connection measured in a phase. Only that
// connection's goroutine writes it; it is read after the phase.
type callRecord struct {
	duration, errors *stats.Histogram
	intended         *stats.Histogram // nil at max rate
	completed        int64
	late             int64 // started more than behindSlack after due
	lateBusy         int64 // of late: mostly waited for a free connection
	dropped          int64 // still waiting at the drain deadline: never made
	lastStart        time.Duration
	lastEnd          time.Duration
}

func newCallRecord(fixedRate bool) callRecord {
	r := callRecord{duration: stats.NewHistogram(0, histogramResolution), errors: stats.NewHistogram(0, histogramResolution)}
	if fixedRate {
		r.intended = stats.NewHistogram(0, histogramResolution)
	}
	return r
}

// phaseRun is one phase's raw figures.
type phaseRun struct {
	start   time.Time
	records []callRecord
	planned int64 // calls in the schedule; 0 at max rate
	// plannedSpan is when the schedule's last call was due.
	plannedSpan time.Duration
	// realtime is set when the calls were made at real-time priority.
	realtime bool
}

// behindSlack is how late a call may start before it counts as behind
// schedule: fortio's threshold for a sleep "falling behind" (its sleep
// histogram's first bucket holds sleeps at or below -1 ms).
const behindSlack = time.Millisecond

// stopper tells the dispatcher and the connections that a phase is over.
// Its context is the one calls run with, so the clients that honour a
// context (h2c, gRPC) abandon their calls in flight when it is cancelled.
type stopper struct {
	flag   atomic.Bool
	ctx    context.Context
	cancel context.CancelFunc
}

func newStopper() *stopper {
	s := &stopper{}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	return s
}

func (s *stopper) stop() {
	s.flag.Store(true)
	s.cancel()
}

// dispatch sends each call of the plan when it is due and returns when the
// last was due. Calls due within the dispatch interval of a wake-up go out
// with it, so at high rates one wake-up sends a few.
func dispatch(pl *plan, tickets chan<- ticket, start time.Time, stop *stopper) (lastDue time.Duration) {
	w, err := newWaker()
	sleep := func(d time.Duration) {
		if err == nil && w.sleep(d) == nil {
			return
		}
		time.Sleep(d) // no timerfd: Go's timer, up to ~1ms late
	}
	if err == nil {
		defer w.close()
	}
	var lastWake time.Duration
	interval := dispatchInterval(pl.rate())
	for {
		due, ok := pl.next()
		if !ok || stop.flag.Load() {
			return lastDue
		}
		for now := time.Since(start); now < due; now = time.Since(start) {
			sleep(min(max(due, lastWake+interval)-now, maxSleep))
			if stop.flag.Load() {
				return lastDue
			}
			lastWake = time.Since(start)
		}
		select {
		case tickets <- ticket{due: due, sent: time.Since(start)}:
			lastDue = due
		case <-stop.ctx.Done():
			return lastDue
		}
	}
}

// serve makes the calls handed to this connection until the schedule is
// done, timing each from its actual start (fortio's latency) and from when
// it was due (intended latency).
func (run *phaseRun) serve(c caller, tickets <-chan ticket, deadline time.Duration, r *callRecord,
	completed *atomic.Int64, stop *stopper,
) {
	for {
		var t ticket
		var ok, waiting bool
		select {
		case t, ok = <-tickets: // already queued: it waited for a connection
			waiting = true
		default:
			t, ok = <-tickets
		}
		if !ok || stop.flag.Load() {
			return
		}
		begin := time.Since(run.start)
		if begin > deadline {
			r.dropped++
			continue
		}
		if late := begin - t.due; late > behindSlack {
			r.late++
			if waiting && begin-t.sent > t.sent-t.due {
				r.lateBusy++
			}
		}
		success := c.call(stop.ctx)
		end := time.Since(run.start)
		service := (end - begin).Seconds()
		r.record(service, success)
		// A call is never faster than its own service time.
		record(r.intended, max((end-t.due).Seconds(), service))
		r.lastStart, r.lastEnd = begin, end
		completed.Add(1)
	}
}

// loop calls back to back until the phase's end: a max-rate connection.
func (run *phaseRun) loop(c caller, d time.Duration, r *callRecord, completed *atomic.Int64, stop *stopper) {
	for !stop.flag.Load() {
		begin := time.Since(run.start)
		if begin >= d {
			return
		}
		success := c.call(stop.ctx)
		end := time.Since(run.start)
		r.record((end - begin).Seconds(), success)
		r.lastStart, r.lastEnd = begin, end
		completed.Add(1)
	}
}

func (r *callRecord) record(service float64, success bool) {
	record(r.duration, service)
	if !success {
		record(r.errors, service)
	}
	r.completed++
}

// ScheduleCounts say how a fixed-rate run kept its schedule. They are
// counts, not ratios, so that the runs of several generators add up.
type ScheduleCounts struct {
	Planned   int64 `json:"planned"`   // calls in the schedule
	Completed int64 `json:"completed"` // calls made and answered (or failed)
	Dropped   int64 `json:"dropped"`   // calls never made: still waiting at the drain deadline
	// Late calls started more than 1 ms after they were due; LateBusy of
	// them waited mostly for a free connection (every connection busy),
	// the others mostly for the generator itself.
	Late     int64 `json:"late"`
	LateBusy int64 `json:"late_busy"`
	// PlannedSpanSeconds is when the last call was due, ActualSpanSeconds
	// when the last call started, both from the run's start.
	PlannedSpanSeconds float64 `json:"planned_span_s"`
	ActualSpanSeconds  float64 `json:"actual_span_s"`
}

// add sums the counts of runs made at the same time; spans take the
// longest.
func (c *ScheduleCounts) add(o ScheduleCounts) {
	c.Planned += o.Planned
	c.Completed += o.Completed
	c.Dropped += o.Dropped
	c.Late += o.Late
	c.LateBusy += o.LateBusy
	c.PlannedSpanSeconds = max(c.PlannedSpanSeconds, o.PlannedSpanSeconds)
	c.ActualSpanSeconds = max(c.ActualSpanSeconds, o.ActualSpanSeconds)
}

// achievedRatio is the achieved/requested rate over the span the schedule
// covers: the share of planned calls made, times how much longer than
// planned they took to go out. Unlike calls / wall time it is not lowered
// by the last call's latency.
func (c ScheduleCounts) achievedRatio() float64 {
	if c.Planned == 0 {
		return 0
	}
	ratio := float64(c.Completed) / float64(c.Planned)
	if c.PlannedSpanSeconds > 0 && c.ActualSpanSeconds > c.PlannedSpanSeconds {
		ratio *= c.PlannedSpanSeconds / c.ActualSpanSeconds
	}
	return ratio
}

// behind is the share of made calls that started late, and of those that
// waited for a connection.
func (c ScheduleCounts) behind() (late, busy float64) {
	if c.Completed == 0 {
		return 0, 0
	}
	return float64(c.Late) / float64(c.Completed), float64(c.LateBusy) / float64(c.Completed)
}

// schedule sums the connections' counts; nil at max rate.
func (run *phaseRun) schedule() *ScheduleCounts {
	if run.planned == 0 {
		return nil
	}
	c := &ScheduleCounts{Planned: run.planned, PlannedSpanSeconds: run.plannedSpan.Seconds()}
	for _, r := range run.records {
		c.Completed += r.completed
		c.Dropped += r.dropped
		c.Late += r.late
		c.LateBusy += r.lateBusy
		c.ActualSpanSeconds = max(c.ActualSpanSeconds, r.lastStart.Seconds())
	}
	return c
}

// merged returns the histograms of all connections together.
func (run *phaseRun) merged() (duration, errs, intended *stats.Histogram, elapsed time.Duration) {
	duration = stats.NewHistogram(0, histogramResolution)
	errs = stats.NewHistogram(0, histogramResolution)
	if run.planned > 0 {
		intended = stats.NewHistogram(0, histogramResolution)
	}
	for i := range run.records {
		r := &run.records[i]
		duration.Transfer(r.duration)
		errs.Transfer(r.errors)
		if intended != nil {
			intended.Transfer(r.intended)
		}
		elapsed = max(elapsed, r.lastEnd)
	}
	return duration, errs, intended, elapsed
}
