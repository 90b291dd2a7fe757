package loadgen

import (
	"math"
	"time"
)

// Connection pool sizing.
//
// A fixed-rate run hands each call, when it is due, to an idle connection. A
// call starts late only when every connection is busy, so the pool must
// hold the calls in flight at the rate: qps x latency on average (Little's
// law), more while the target's latency is in its tail or the arrival
// process bunches calls together. With too few connections the run measures
// the pool, not the target: 8 connections at 5,000 qps against a server
// whose p99 is 15 ms started 96% of their calls late (issue 16).

// DefaultExpectedLatency is the call latency a pool sized by default
// absorbs without queueing: the 10-15 ms p99 tail a shared 2-vCPU VM showed
// under load, so a stall of that length delays no call's start.
const DefaultExpectedLatency = 10 * time.Millisecond

// MinAutoConnections and MaxAutoConnections bound ConnectionsFor, the pool
// a run sizes itself; a pool given explicitly may reach MaxConnections.
// 1024 carries 40,000 qps at 20 ms, more than one generator core makes.
const (
	MinAutoConnections = 4
	MaxAutoConnections = 1024
)

// poolHeadroom is the multiple of the standard deviation of the calls in
// flight added above their mean: square-root staffing, which for a Poisson
// stream keeps the chance that a call finds every connection busy small
// (about 1% at 2.3) whatever the rate.
const poolHeadroom = 3

// ConnectionsFor is the pool a fixed-rate run at qps needs when calls take
// up to latency: the calls in flight (qps x latency), plus poolHeadroom
// standard deviations of a Poisson count with that mean, plus the calls
// that start at once (a burst, or those one dispatch wake-up sends above
// 10,000 qps), within [MinAutoConnections, MaxAutoConnections]. At 900 qps
// and 10 ms that is 18 connections; at 300 qps, 9; a search step at 40,000
// qps gets 464.
func ConnectionsFor(qps float64, latency time.Duration, a Arrival) int {
	inFlight := qps * latency.Seconds()
	n := math.Ceil(inFlight + poolHeadroom*math.Sqrt(inFlight))
	// The calls that start at once: a burst, or those one dispatch
	// wake-up sends (counted as if one loop made them all, the most).
	together := callsPerDispatch(qps)
	if a.Kind == Burst {
		together = max(together, a.Burst)
	}
	n += float64(together)
	if math.IsNaN(n) {
		n = 0
	}
	return int(math.Min(math.Max(n, MinAutoConnections), MaxAutoConnections))
}
