package sizing

import (
	"fmt"
	"math"

	"github.com/proxysizer/proxysizer/internal/quantity"
)

// DefaultConcurrency is what the proxy would run at a CPU limit if the
// concurrency annotation were absent. Istio (1.18+) derives it from the
// limit rounded up; Envoy itself (1.37+, when it detects the container's
// cgroup limit) rounds the limit down, leaving room for its non-worker
// threads (istio/istio#59628 tracks the disagreement). Without a limit both
// take every core of the node.
type DefaultConcurrency struct {
	// Istio and Envoy are worker counts; 0 means one per node core.
	Istio int    `json:"istio"`
	Envoy int    `json:"envoy"`
	Text  string `json:"text"`
}

// DefaultWorkers says what Istio and Envoy would run at a CPU limit (0:
// none) without the concurrency annotation.
func DefaultWorkers(limitMillicores int64) DefaultConcurrency {
	if limitMillicores <= 0 {
		return DefaultConcurrency{Text: "no CPU limit: Istio 1.18+ and Envoy both start one worker per node core (the downward API gives Istio the node's allocatable CPU)"}
	}
	cores := float64(limitMillicores) / 1000
	d := DefaultConcurrency{Istio: int(math.Ceil(cores - 1e-9)), Envoy: max(1, int(math.Floor(cores+1e-9)))}
	limit := quantity.Millicores(limitMillicores)
	d.Text = fmt.Sprintf("Istio 1.18+ would run ceil(%s) = %d worker(s); Envoy 1.37+, where it detects the cgroup limit, max(1, floor(%s)) = %d (istio/istio#59628)",
		limit, d.Istio, limit, d.Envoy)
	return d
}

// ConcurrencyFitsLimit reports whether concurrency workers fit a CPU limit
// (0: none) by Istio's rule: at most ceil(limit). More workers than the
// quota has cores are all busy in a burst, use the period's quota up early
// and stall for the rest of each 100 ms CFS period (istio/istio#61683).
func ConcurrencyFitsLimit(concurrency int, limitMillicores int64) bool {
	if limitMillicores <= 0 {
		return true
	}
	return concurrency <= int(math.Ceil(float64(limitMillicores)/1000-1e-9))
}
