package loadgen

import (
	"context"
	"sync/atomic"
	"time"

	"fortio.org/fortio/periodic"
	"fortio.org/fortio/stats"
)

// Intended-send-time latency (coordinated omission).
//
// fortio times each call from the moment it is actually sent
// (fortio/fortio#3). When the target stalls, the calls that should have gone
// out during the stall are sent late, and their wait is counted nowhere: the
// generator coordinates with the server and omits the bad samples. For a
// fixed-rate run the schedule says when every call was meant to go, so
// callRecorder also records, for each call,
//
//	intended latency = actual end - intended start
//
// where the intended start of call i of thread t is the run's start plus
// schedule.intendedOffset(t, i). That is wrk2's correction. It is recorded in
// a fortio stats.Histogram with the same resolution as fortio's own, so both
// figures come from the same percentile machinery.
//
// The hook is fortio's periodic.AccessLogger: Start is called just before
// and Report just after every call, with the thread, the iteration number
// and the actual start time. The run's start is not passed to it; it is taken
// as the earliest first call of any thread (less that thread's uniform
// stagger), which trails fortio's own start by the microseconds it takes to
// launch the goroutines.
//
// The same hook counts completed calls for progress, and counts the calls
// that ended more than 1ms after the next call was due: fortio's "sleep
// falling behind", which it only prints.

// behindSlack is how late a call's predecessor may end before fortio counts
// the sleep as falling behind: its sleep histogram's first bucket holds
// sleeps at or below -1ms.
const behindSlack = time.Millisecond

// callRecorder is the periodic.AccessLogger that a run installs.
type callRecorder struct {
	sched     *schedule // nil for a max-rate run: no schedule, no intended start
	threads   []threadRecord
	completed atomic.Int64
	anchor    atomic.Int64    // run start estimate, UnixNano; 0 until the first call
	outer     context.Context // cancels in-flight calls when the run is cancelled
}

// threadRecord is written by one fortio thread only, and read after the run.
type threadRecord struct {
	intended  *stats.Histogram
	ctx       context.Context
	behind    int64 // calls whose successor was due more than behindSlack before they ended
	followed  int64 // calls that had a successor in the schedule
	lastStart time.Time
	_         [16]byte
}

func newCallRecorder(outer context.Context, threads int, sched *schedule) *callRecorder {
	r := &callRecorder{sched: sched, threads: make([]threadRecord, threads), outer: outer}
	for i := range r.threads {
		r.threads[i].intended = stats.NewHistogram(0, histogramResolution)
		r.threads[i].ctx = context.WithValue(outer, periodic.ThreadID(0), periodic.ThreadID(i))
	}
	return r
}

// Start implements periodic.AccessLogger. The returned context is the one the
// call runs with: derived from the run's context, so cancelling the run also
// cancels calls in flight (for the clients that honour it: the h2c and gRPC
// ones; fortio's fast HTTP/1.1 client is bounded by the request timeout).
func (r *callRecorder) Start(ctx context.Context, id periodic.ThreadID, iter int64, start time.Time) context.Context {
	t := r.thread(id)
	if t == nil {
		return ctx
	}
	if iter == 0 && r.sched != nil {
		r.lowerAnchor(start.Add(-r.sched.intendedOffset(int(id), 0)).UnixNano())
	}
	return t.ctx
}

// Report implements periodic.AccessLogger.
func (r *callRecorder) Report(_ context.Context, id periodic.ThreadID, iter int64, start time.Time,
	latency float64, _ bool, _ string,
) {
	r.completed.Add(1)
	t := r.thread(id)
	if t == nil || r.sched == nil {
		return
	}
	anchor := time.Unix(0, r.anchor.Load())
	end := start.Add(time.Duration(latency * float64(time.Second)))
	intended := end.Sub(anchor.Add(r.sched.intendedOffset(int(id), iter))).Seconds()
	// The anchor trails the true start by a few microseconds; a call is never
	// faster than its own service time.
	t.intended.Record(max(intended, latency))
	t.lastStart = start
	if iter+1 < r.sched.callsPerThread {
		t.followed++
		if end.Sub(anchor.Add(r.sched.intendedOffset(int(id), iter+1))) > behindSlack {
			t.behind++
		}
	}
}

// Info implements periodic.AccessLogger; fortio copies it into its result.
func (r *callRecorder) Info() string {
	return "proxysizer intended-start latency recorder"
}

func (r *callRecorder) thread(id periodic.ThreadID) *threadRecord {
	if int(id) < 0 || int(id) >= len(r.threads) {
		return nil
	}
	return &r.threads[id]
}

func (r *callRecorder) lowerAnchor(nanos int64) {
	for {
		cur := r.anchor.Load()
		if cur != 0 && cur <= nanos {
			return
		}
		if r.anchor.CompareAndSwap(cur, nanos) {
			return
		}
	}
}

// intendedHistogram merges the threads' histograms; call after the run.
func (r *callRecorder) intendedHistogram() *stats.Histogram {
	h := stats.NewHistogram(0, histogramResolution)
	for i := range r.threads {
		h.Transfer(r.threads[i].intended)
	}
	return h
}

// achievedRatio compares the run with its schedule: the share of scheduled
// calls that were made, times how much longer than planned the calls took to
// go out (last call's actual start vs its intended one, from the run start).
// It is the achieved/requested rate over the span the schedule covers, so
// unlike fortio's ActualQPS (calls / wall time) it is not lowered by the
// connection stagger, the last call's latency, or the calls fortio drops when
// the rate does not divide evenly among the connections. Call after the run.
func (r *callRecorder) achievedRatio() float64 {
	scheduled := float64(r.sched.callsPerThread) * float64(r.sched.threads)
	var lastActual time.Time
	var plannedSpan time.Duration
	for id := range r.threads {
		if r.threads[id].lastStart.After(lastActual) {
			lastActual = r.threads[id].lastStart
		}
		if id < r.sched.threads {
			plannedSpan = max(plannedSpan, r.sched.intendedOffset(id, r.sched.callsPerThread-1))
		}
	}
	actualSpan := lastActual.Sub(time.Unix(0, r.anchor.Load()))
	if scheduled == 0 || actualSpan <= 0 {
		return 0
	}
	return float64(r.completed.Load()) / scheduled * plannedSpan.Seconds() / actualSpan.Seconds()
}

// behindRatio is the share of scheduled sleeps that fell behind; call after
// the run.
func (r *callRecorder) behindRatio() float64 {
	var behind, followed int64
	for i := range r.threads {
		behind += r.threads[i].behind
		followed += r.threads[i].followed
	}
	if followed == 0 {
		return 0
	}
	return float64(behind) / float64(followed)
}
