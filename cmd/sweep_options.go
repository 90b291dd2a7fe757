package cmd

import (
	"fmt"
	"strings"

	"github.com/proxysizer/proxysizer/driver"
	"github.com/proxysizer/proxysizer/driver/local"
	"github.com/proxysizer/proxysizer/sweep"
)

// bindSweepFlags binds the sweep's request, whatever the backend.
func bindSweepFlags(f fieldFlags, r *sweep.Request) {
	f.bind(driver.FieldConcurrency, &r.Concurrency, "concurrency", "proxy worker counts to sweep")
	f.bind(driver.FieldCPULimits, &r.CPULimits, "cpu-limit", "proxy CPU limits to sweep (quantities, or none)")
	f.bind(sweep.FieldRates, &r.Rates, "rates", "inbound RPS per step; with --find-max, values up to 1 are fractions of each setting's maximum")
	f.bind(sweep.FieldRepeats, &r.Repeats, "repeats", "measure each rate this many times, interleaved (repeats average out step-to-step noise in the fit)")
	f.bind(sweep.FieldFindMax, &r.FindMax, "find-max", "search each setting's maximum throughput first (without it a setting's capacity is only a lower bound, its highest valid step)")
	f.bind(sweep.FieldSLOP99, &r.SLOP99, "slo-p99", "with --find-max: the p99 latency (from intended send time) a rate must keep")
	f.bind(sweep.FieldDuration, &r.Duration, "duration", "measured time per step")
	f.bind(sweep.FieldWarmup, &r.Warmup, "warmup", "warm-up per step, left out of the figures")
	f.bind(sweep.FieldConnections, &r.Connections, "connections", `load generator connections, or "auto": each step's pool sized for its rate (the calls in flight when they take up to 10ms, plus headroom; on kubernetes each generator sizes its own for its share)`)
	f.bind(sweep.FieldArrival, &r.Arrival, "arrival", "how each step's calls are spaced: poisson (independent clients, the closest to production), uniform (evenly), or burst:N (N at once); on kubernetes each generator's share follows it")
	f.bind(sweep.FieldProtocol, &r.Protocol, "protocol", "http1 or h2c")
	f.bind(sweep.FieldPayloadSize, &r.PayloadSize, "payload-size", "request body bytes (POST); 0 sends GETs")
	f.bind(sweep.FieldOutboundPerRequest, &r.OutboundPerRequest, "outbound-per-request", "calls the app makes back out through the proxy per inbound request (k)")
	f.bind(sweep.FieldOutDir, &r.OutDir, "out", "results directory (default out/sweep-TIMESTAMP)")
	f.bind(sweep.FieldResume, &r.Resume, "resume", "continue the interrupted sweep in --out")
	f.bind(sweep.FieldSearchMaxSteps, &r.SearchMaxSteps, "search-max-steps", "with --find-max: at most this many steps per search")
	f.bind(sweep.FieldSearchMaxTime, &r.SearchMaxTime, "search-max-time", "with --find-max: at most this long per search")
	f.bind(sweep.FieldSearchStartRPS, &r.SearchStartRPS, "search-start-rps", "with --find-max: the search's first rate")
	f.bind(sweep.FieldSearchDuration, &r.SearchDuration, "search-duration", "with --find-max: measured time per search step (default --duration): a search only tells pass from fail")
}

// sweepLong is the sweep's help, with the local proxies from the registry.
func sweepLong() string {
	return fmt.Sprintf(`sweep runs a real proxy at every Envoy concurrency x CPU-limit setting and
measures, at each rate, its CPU (from its cgroup), CFS throttling, memory
working set, the requests it carried per inbound request (from its own
counters) and the latency it adds over a baseline run without it.

The local backend (the default) needs no cluster: the proxy (the first of
%s on PATH) runs on this machine in a cgroup whose CFS
quota enforces the CPU limit as Kubernetes does, in front of a fortio app that
fans each request out to --outbound-per-request calls back through the proxy.
Results go to --out after every step; an interrupted sweep continues with
--resume.

The kubernetes backend (--backend kubernetes -n NS --deployment NAME --target
URL) sizes a live Deployment's Istio sidecar: for each setting it patches the
pod template's sidecar annotations and waits for the rollout; load agent pods
in the namespace (--load-generators, --load-image: proxysizer's own engine)
load --target from inside the mesh; Envoy's
counters give the requests through each sidecar, Prometheus
(--prometheus-url) or metrics.k8s.io the CPU, throttling and memory, per pod.
The original annotations are restored and the load pods deleted at the end,
on error and on Ctrl-C (after kill -9: proxysizer restore).`, strings.Join(local.ProxyNames(), ", "))
}
