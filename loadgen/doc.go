// Package loadgen is proxysizer's load engine: it drives HTTP/1.1, h2c and
// gRPC load through fortio's library (periodic, fhttp, fgrpc), judges whether
// each run is a valid measurement, and searches for the highest rate a target
// sustains under a latency objective. It owns the load only: what to load
// (local proxies, Kubernetes pods) and what the figures mean for sizing
// belong to its callers.
//
// # API
//
//   - Run(ctx, Options) (*Result, error): one run. Result keeps fortio's
//     full result (HTTP or GRPC, whose JSON `fortio report` reads) and a
//     Summary whose JSON field names are proxysizer's contract.
//   - FindMax(ctx, SearchOptions, Runner) (*SearchResult, error): the
//     max-throughput search over any Runner (func(ctx, qps) (*Result, error));
//     RunnerFor(Options, ...) makes one from Run.
//   - CheckReachable: the up-front connect check Run makes.
//   - ProgressPrinter: an Options.Progress for people.
//
// # Warm-up
//
// Options.Warmup is a separate fortio run at the same rate and connections,
// made just before the measured run and thrown away, so that the target's
// connection pools, caches and JIT are warm. fortio has no warm-up period of
// its own; it only makes one untimed call per connection before a run (which
// both runs do), so connection setup never counts in the figures.
//
// # Coordinated omission
//
// fortio times each call from its actual send (fortio/fortio#3), so calls
// that queued behind a stall are timed as fast. For fixed-rate runs Summary
// also carries IntendedLatencyMs, timed from each call's intended send time
// in fortio's schedule (recomputed in schedule.go, recorded through fortio's
// AccessLogger hook into a fortio histogram: intended.go says how). It also
// includes the generator's own lateness: Go timers wake a sleeping connection
// up to about 1ms late, which shows as a ~1ms floor on intended p99 on an
// idle target. Max-rate runs have no schedule and no intended latency.
//
// # Validity
//
// Every run is judged by Limits (validity.go): achieved/requested rate over
// the schedule's span (>= 0.97; fixed rate only), error ratio (<= 1%),
// share of calls that started more than 1ms behind schedule (<= 5%, fortio's
// "sleep falling behind"), and a warning when this process used more than
// 85% of the cores it may use (CPU from /proc/self/stat over the measured
// run), because then a knee may be the generator's own. An invalid run is
// still a result (Valid false, InvalidReasons), not an error.
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
// Cancelling Run's context aborts fortio's runner between calls and cancels
// calls in flight where the client honours a context (h2c, gRPC). Run
// returns within about a second; a call fortio makes before its runner starts
// may finish in the background within the request timeout.
package loadgen
