// Package loadgen is proxysizer's load engine: it sends HTTP/1.1, h2c and
// gRPC load on a schedule (or as fast as it can), judges whether each run
// is a valid measurement, searches for the highest rate a target sustains
// under a latency objective, and serves all that to remote callers as a
// small HTTP agent. It owns the load only: what to load (local proxies,
// Kubernetes pods) and what the figures mean for sizing belong to its
// callers. Its results are fortio's result types, so `fortio report` reads
// every run.
//
// # API
//
//   - Run(ctx, Options) (*Result, error): one run. Result keeps fortio's
//     result (HTTP or GRPC), the intended-start histogram and schedule
//     counts, and a Summary whose JSON field names are proxysizer's
//     contract.
//   - FindMax(ctx, SearchOptions, Runner) (*SearchResult, error): the
//     max-throughput search over any Runner; RunnerFor(Options, ...) makes
//     one from Run.
//   - Request.Job, Job.Do, Report.Write: a run or a search as a person asks
//     for it (values as typed, "max", "auto", "burst:8"), checked into a
//     Job, done with progress and its results saved whole (results.Stage)
//     into a directory of proxysizer's own, and written as text or JSON:
//     all of `proxysizer load` but its flags.
//   - ConnectionsFor(qps, latency, Arrival): the pool a rate needs.
//   - Agent / ServeAgent / AgentClient: the engine over HTTP (`proxysizer
//     load --serve`), driven through any http.RoundTripper;
//     MergeResults merges the runs of several agents exactly.
//   - CheckReachable, CheckSaveDir, ProgressPrinter.
//   - Options and SearchOptions report bad values as *FieldError naming a
//     Field (an input.Field) in the library's words; Request reports them
//     as *input.Error in its Names' words (a command line's flags).
//
// # Open loop
//
// A fixed-rate run follows an arrival process (Arrival: uniform, Poisson,
// bursts of N; plan in arrival.go) and hands each call, when it is due, to
// an idle connection; a call waits only when every connection is busy
// (engine.go). fortio's periodic runner, which this replaces, gave each
// connection a share of the schedule and made its next call only when the
// last returned, so one slow reply delayed every later call of its
// connection: at thousands of qps on 8-32 connections most calls started
// late (issue 16). Connections 0 sizes the pool with ConnectionsFor. A
// max-rate run is closed loop: each connection calls again as soon as its
// last call returns.
//
// Plain HTTP/1.1 runs on event loops of raw system calls (epoll, a timerfd
// for the schedule; eventloop_linux.go), sending the requests fortio's fast
// client would and reading replies by its rules (h1parse.go): fortio's
// client on Go's netpoller cost about 40% more CPU per request than wrk.
// A fixed-rate run's loops run at real-time priority where the process may
// (priority_linux.go), so that other processes on their CPU do not delay
// the calls.
// h2c, gRPC and https run on fortio's clients, a goroutine per connection,
// fed by a dispatcher that sleeps on a timerfd (Go's timers wake up to 1 ms
// late on an idle process).
//
// # Warm-up
//
// Options.Warmup runs at the same rate on the same connections just before
// the measured period and is left out of every figure, so that the
// target's connection pools, caches and JIT are warm. Before either, every
// connection makes one untimed call (as fortio's runner does), so
// connection setup never counts in the figures.
//
// # Coordinated omission
//
// fortio times each call from its actual send (fortio/fortio#3), so calls
// that queued behind a stall look fast. A fixed-rate run also records each
// call from when it was due (Summary.IntendedLatencyMs): the wait for a
// free connection, and the generator's own lateness, count. Max-rate runs
// have no schedule and no intended latency.
//
// # Validity
//
// Every run is judged by Limits (validity.go): achieved/requested rate over
// the schedule's span (>= 0.97; fixed rate only), error ratio (<= 1%),
// share of calls that started more than 1ms after they were due (<= 5%,
// fortio's threshold for "falling behind"), split into those that waited
// for a free connection and those the generator itself sent late (with how
// long its threads waited for a CPU other processes held), and a warning
// when this process used more than 85% of the cores it may use. An invalid
// run is still a result (Valid false, InvalidReasons), not an error.
//
// # Search
//
// FindMax doubles the rate until a step fails, then bisects between the
// highest pass and the lowest fail until they are within 2%, like
// Nighthawk's adaptive load controller, bounded by steps, time and a rate
// cap; every step is kept. A step passes when its run is valid and its p99
// (intended-start by default) is within the SLO. SearchOptions.FailRetries
// re-measures a failing rate before believing it, because one noisy step
// sends a bisection the wrong way for good.
//
// # Cancellation
//
// Cancelling Run's context stops the schedule and ends the phase within
// about 10 ms on the event loops; fortio's clients abandon calls in flight
// where they honour a context (h2c, gRPC). Run returns within about a
// second; a fortio HTTP/1.1 call in flight may end in the background within
// the request timeout.
package loadgen
