package kube

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/proxysizer/proxysizer/internal/promtext"
)

// DefaultEnvoyStatsPort is where an Istio sidecar serves Envoy's
// /stats/prometheus to the pod network: Envoy's admin port (15000) listens
// on 127.0.0.1 only, so the API server's pod proxy cannot reach it; Istio's
// Prometheus listener on 15090 serves the same text.
const DefaultEnvoyStatsPort = 15090

// Envoy stat names (as /stats/prometheus spells them).
const (
	envoyDownstreamRq  = "envoy_http_downstream_rq_total"
	envoyHCMPrefix     = "envoy_http_conn_manager_prefix"
	istioRequestsTotal = "istio_requests_total"
	envoyMemAllocated  = "envoy_server_memory_allocated"
	envoyConcurrency   = "envoy_server_concurrency"
)

// envoyCounters are one sidecar's request counters and server gauges.
type envoyCounters struct {
	Inbound, Outbound int64
	// Source says which counters: the per-listener HTTP connection
	// managers, or Istio's standard metric when Istio's default stats
	// inclusion list hides the former.
	Source         string
	MemAllocated   int64
	Concurrency    int64
	HasConcurrency bool
}

// parseEnvoyStats reads an Istio sidecar's /stats/prometheus: requests on
// the inbound and outbound HTTP connection managers (stat prefixes
// inbound_* and outbound_*, matched by prefix because they carry the
// address and port), else istio_requests_total by reporter (destination:
// inbound, source: outbound), which Istio keeps by default.
func parseEnvoyStats(text []byte) (envoyCounters, error) {
	fams, err := promtext.Parse(text)
	if err != nil {
		return envoyCounters{}, fmt.Errorf("parsing Envoy's stats: %w", err)
	}
	var c envoyCounters
	if in, ok := promtext.SumPrefix(fams, envoyDownstreamRq, envoyHCMPrefix, "inbound_"); ok {
		out, _ := promtext.SumPrefix(fams, envoyDownstreamRq, envoyHCMPrefix, "outbound_")
		c.Inbound, c.Outbound = in, out
		c.Source = "envoy " + envoyDownstreamRq + " by " + envoyHCMPrefix + " (inbound_*, outbound_*)"
	} else if in, ok := promtext.Sum(fams, istioRequestsTotal, map[string]string{"reporter": "destination"}); ok {
		out, _ := promtext.Sum(fams, istioRequestsTotal, map[string]string{"reporter": "source"})
		c.Inbound, c.Outbound = in, out
		c.Source = "envoy " + istioRequestsTotal + " by reporter (destination: inbound, source: outbound)"
	} else {
		return c, fmt.Errorf("the sidecar's stats have neither %s for inbound_* connection managers nor %s{reporter=\"destination\"}: "+
			"is it an Istio sidecar receiving traffic? (Istio's default stats inclusion hides the former; add "+
			"proxyStatsMatcher: {inclusionPrefixes: [http.inbound, http.outbound]} to proxy.istio.io/config for it)", envoyDownstreamRq, istioRequestsTotal)
	}
	c.MemAllocated, _ = promtext.Sum(fams, envoyMemAllocated, nil)
	c.Concurrency, c.HasConcurrency = promtext.Sum(fams, envoyConcurrency, nil)
	return c, nil
}

// readEnvoyStats reads every pod's sidecar stats through the pod proxy.
func (p podProxy) readEnvoyStats(ctx context.Context, pods []string, port int) (map[string]envoyCounters, error) {
	out := make(map[string]envoyCounters, len(pods))
	var mu sync.Mutex
	var wg sync.WaitGroup
	errs := make([]error, len(pods))
	for i, pod := range pods {
		wg.Add(1)
		go func() {
			defer wg.Done()
			body, err := p.get(ctx, pod, port, "stats/prometheus", nil)
			if err != nil {
				errs[i] = fmt.Errorf("reading the sidecar's stats of pod %s: %w", pod, err)
				return
			}
			c, err := parseEnvoyStats(body)
			if err != nil {
				errs[i] = fmt.Errorf("pod %s: %w", pod, err)
				return
			}
			mu.Lock()
			out[pod] = c
			mu.Unlock()
		}()
	}
	wg.Wait()
	return out, errors.Join(errs...)
}

// requestDeltas sums, over pods, the requests each sidecar carried between
// two reads. A counter that went down means the sidecar restarted during
// the run: the step cannot be measured.
func requestDeltas(before, after map[string]envoyCounters, pods []string) (inbound, total int64, err error) {
	for _, pod := range pods {
		b, okB := before[pod]
		a, okA := after[pod]
		if !okB || !okA {
			return 0, 0, fmt.Errorf("no sidecar stats for pod %s before and after the run", pod)
		}
		if a.Inbound < b.Inbound || a.Outbound < b.Outbound {
			return 0, 0, fmt.Errorf("the sidecar of pod %s restarted during the run (its request counters went down)", pod)
		}
		inbound += a.Inbound - b.Inbound
		total += a.Inbound - b.Inbound + a.Outbound - b.Outbound
	}
	return inbound, total, nil
}
