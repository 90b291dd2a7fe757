package results

import (
	"fmt"
	"strings"

	"github.com/proxysizer/proxysizer/internal/quantity"
)

// Setting is one point of a sweep's grid: the proxy's worker count and its
// CPU limit. Step and Search embed it, so sweep.json spells it as two flat
// fields.
type Setting struct {
	// Concurrency is the proxy's worker count (Envoy --concurrency,
	// haproxy nbthread, nginx worker_processes).
	Concurrency int `json:"concurrency"`
	// CPULimitMillicores is the CPU limit (a CFS quota locally, the
	// sidecar's limit on a cluster); 0 means no limit.
	CPULimitMillicores int64 `json:"cpu_limit_millicores"`
}

// HasCPULimit reports whether the setting caps the proxy's CPU: the one place
// that reads a zero limit as "none".
func (s Setting) HasCPULimit() bool { return s.CPULimitMillicores != 0 }

// String names the setting as the progress lines and file names show it.
func (s Setting) String() string {
	return fmt.Sprintf("concurrency %d, CPU limit %s", s.Concurrency, s.LimitString())
}

// LimitString is the CPU limit as a quantity, or "none".
func (s Setting) LimitString() string { return LimitString(s.CPULimitMillicores) }

// LimitString is a CPU limit in millicores as a quantity, or "none" for 0.
func LimitString(millicores int64) string {
	if millicores == 0 {
		return "none"
	}
	return quantity.Millicores(millicores)
}

// Key is a file-name-safe identifier: c2-l1500m, c4-lnone.
func (s Setting) Key() string {
	return fmt.Sprintf("c%d-l%s", s.Concurrency, s.LimitString())
}

// StandsIn reports whether the figures describe a proxy measured in Envoy's
// place (haproxy, nginx): its CPU, capacity, latency and working set are not
// an Istio sidecar's.
func (p Proxy) StandsIn() bool { return !strings.HasPrefix(p.Name, "envoy") }
