package prom

import (
	"context"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/common/model"
)

// Istio's standard request metric, Envoy's retry counter and the sidecar's
// container name, as the fleet queries read them.
const (
	SeriesRequests = "istio_requests_total"
	SeriesRetries  = "envoy_cluster_upstream_rq_retry"
	ProxyContainer = "istio-proxy"
)

// WorkloadKey names a workload as Istio's telemetry does: its namespace and
// name (destination_workload for a Deployment is the Deployment's name).
type WorkloadKey struct {
	Namespace, Name string
}

func (k WorkloadKey) String() string { return k.Namespace + "/" + k.Name }

// FleetQuery says what the fleet queries cover.
type FleetQuery struct {
	// Namespaces are the workloads' namespaces; empty: every namespace.
	Namespaces []string
	// Window is the history read, ending At.
	Window time.Duration
	At     time.Time
	// RateWindow is the range of each rate() (the "5-minute rates"), and
	// the step at which the peak's subqueries evaluate them.
	RateWindow time.Duration
	// Quantile is the peak: this quantile over the window of the rates.
	Quantile float64
	// Parallel is how many queries run at once (0: DefaultParallel).
	Parallel int
}

// DefaultParallel runs a few queries at once: Prometheus evaluates each on
// one goroutine, and its default --query.max-concurrency is 20.
const DefaultParallel = 3

// Validate reports a window, rate window or quantile that PromQL cannot
// evaluate as the peak rule means it.
func (q FleetQuery) Validate() error {
	switch {
	case q.Window <= 0:
		return fmt.Errorf("window must be > 0, got %s", q.Window)
	case q.RateWindow <= 0 || q.RateWindow > q.Window:
		return fmt.Errorf("rate window must be > 0 and at most the window %s, got %s", q.Window, q.RateWindow)
	case !(q.Quantile > 0 && q.Quantile <= 1):
		return fmt.Errorf("peak quantile must be within (0, 1], got %v", q.Quantile)
	case q.At.IsZero():
		return fmt.Errorf("the evaluation time is not set")
	}
	return nil
}

// NamedQuery is one PromQL query of the fixed set and what it gives.
type NamedQuery struct {
	Name   string `json:"name"`
	Figure string `json:"figure"`
	Expr   string `json:"promql"`
}

// Names of the fleet queries.
const (
	QueryInboundPeak   = "inbound_peak"
	QueryInbound       = "inbound"
	QueryOutbound      = "outbound"
	QueryRetries       = "retries"
	QueryProxyCPUPeak  = "proxy_cpu_peak"
	QueryAppCPUPeak    = "app_cpu_peak"
	QueryThrottledPeak = "proxy_throttled_peak"
	QueryProxyMemory   = "proxy_memory_max"
	QueryAppMemory     = "app_memory_max"
)

// matchers is a label matcher list with the namespace matcher appended.
func matchers(fixed, nsLabel string, namespaces []string) string {
	m := []string{}
	if fixed != "" {
		m = append(m, fixed)
	}
	switch len(namespaces) {
	case 0:
	case 1:
		m = append(m, fmt.Sprintf("%s=%q", nsLabel, namespaces[0]))
	default:
		quoted := make([]string, len(namespaces))
		for i, ns := range namespaces {
			quoted[i] = regexp.QuoteMeta(ns)
		}
		m = append(m, fmt.Sprintf("%s=~%q", nsLabel, strings.Join(quoted, "|")))
	}
	return "{" + strings.Join(m, ",") + "}"
}

// appContainers matches every container of a pod but the sidecar, the
// pause container and the pod-level cgroup (container="").
const appContainers = `container!~"|POD|istio-proxy"`

// OutboundQuery is the requests each workload sent to each destination
// service over the window (reporter="source": the caller's sidecar).
func OutboundQuery(namespaces []string, window time.Duration) string {
	return fmt.Sprintf(`sum by (source_workload_namespace, source_workload, destination_service) (increase(%s%s[%s]))`,
		SeriesRequests, matchers(`reporter="source"`, "source_workload_namespace", namespaces), model.Duration(window))
}

// FleetQueries are the fixed set of PromQL queries one run sends, whatever
// the fleet's size. A peak is quantile_over_time(Quantile, X[Window:Rate]);
// for the load and the sidecar's CPU, X is a per-pod figure of each
// workload at one time, the average over its pods of rate(...[Rate]), so
// that the two peaks are taken the same way and the model is checked at
// the load's peak; for the app's CPU and the sidecar's throttling, each
// pod's own peak, averaged over the workload's pods. The subquery
// evaluates X every RateWindow over the window, so it reads every sample of
// the window about once.
func FleetQueries(q FleetQuery) []NamedQuery {
	w, r := model.Duration(q.Window), model.Duration(q.RateWindow)
	dst := matchers(`reporter="destination"`, "destination_workload_namespace", q.Namespaces)
	proxy := matchers(`container="istio-proxy"`, "namespace", q.Namespaces)
	app := matchers(appContainers, "namespace", q.Namespaces)
	retries := matchers(`cluster_name=~"outbound\\|.*"`, "namespace", q.Namespaces)
	peak := func(inner string) string {
		return fmt.Sprintf("quantile_over_time(%g, (%s)[%s:%s])", q.Quantile, inner, w, r)
	}
	perPod := func(series, sel string) string {
		return fmt.Sprintf("avg by (namespace, workload) (%s)", WorkloadLabel(fmt.Sprintf("sum by (namespace, pod) (rate(%s%s[%s]))", series, sel, r)))
	}
	// perPodPeak takes each pod's peak, and averages the pods of each
	// workload outside the subquery: the workload's label is then derived
	// once per pod rather than at every step (throttling and the app's CPU,
	// figures of each pod's own quota and load).
	perPodPeak := func(inner string) string {
		return fmt.Sprintf("avg by (namespace, workload) (%s)", WorkloadLabel(peak(inner)))
	}
	byWorkload := func(agg, inner string) string {
		return fmt.Sprintf("sum by (namespace, workload) (%s)", WorkloadLabel(fmt.Sprintf("sum by (namespace, pod) (%s(%s))", agg, inner)))
	}
	return []NamedQuery{
		{QueryInboundPeak, "inbound requests per second per pod at the peak (reporter=destination)",
			peak(fmt.Sprintf("avg by (destination_workload_namespace, destination_workload) (sum by (destination_workload_namespace, destination_workload, pod) (rate(%s%s[%s])))", SeriesRequests, dst, r))},
		{QueryInbound, "inbound requests over the window",
			fmt.Sprintf("sum by (destination_workload_namespace, destination_workload) (increase(%s%s[%s]))", SeriesRequests, dst, w)},
		{QueryOutbound, "outbound requests over the window, by destination service (reporter=source)",
			OutboundQuery(q.Namespaces, q.Window)},
		{QueryRetries, "retries the sidecar issued upstream over the window (outbound clusters)",
			byWorkload("increase", fmt.Sprintf("%s%s[%s]", SeriesRetries, retries, w))},
		{QueryProxyCPUPeak, "istio-proxy CPU cores per pod at the peak",
			peak(perPod(SeriesCPU, proxy))},
		{QueryAppCPUPeak, "app containers' CPU cores at each pod's peak, averaged over the pods",
			perPodPeak(fmt.Sprintf("sum by (namespace, pod) (rate(%s%s[%s]))", SeriesCPU, app, r))},
		{QueryThrottledPeak, "share of istio-proxy CFS periods throttled at each pod's peak, averaged over the pods",
			perPodPeak(fmt.Sprintf("sum by (namespace, pod) (rate(%s%s[%s])) / (sum by (namespace, pod) (rate(%s%s[%s])) > 0)",
				SeriesThrottled, proxy, r, SeriesPeriods, proxy, r))},
		{QueryProxyMemory, "istio-proxy's largest working set of any pod over the window",
			fmt.Sprintf("max by (namespace, workload) (%s)", WorkloadLabel(fmt.Sprintf("max by (namespace, pod) (max_over_time(%s%s[%s]))", SeriesMemory, proxy, w)))},
		{QueryAppMemory, "app containers' largest working set of any pod over the window",
			fmt.Sprintf("max by (namespace, workload) (%s)", WorkloadLabel(fmt.Sprintf("sum by (namespace, pod) (max_over_time(%s%s[%s]))", SeriesMemory, app, w)))},
	}
}

// Figure is a measured value, or its absence.
type Figure struct {
	Value float64
	Found bool
}

// WorkloadTelemetry is what the fleet queries say of one workload.
type WorkloadTelemetry struct {
	InboundPeakPerPod Figure
	InboundRequests   Figure
	// Outbound is the requests sent to each destination service (its
	// FQDN, or Istio's "unknown", "PassthroughCluster", ...) over the window.
	Outbound       map[string]float64
	Retries        Figure
	ProxyCPUPeak   Figure
	AppCPUPeak     Figure
	ThrottledPeak  Figure
	ProxyMemoryMax Figure
	AppMemoryMax   Figure
}

// FleetTelemetry is the fixed set's answers, per workload.
type FleetTelemetry struct {
	Workloads map[WorkloadKey]*WorkloadTelemetry
	// Series is how many series each query returned: 0 says the metric is
	// absent for the namespaces covered.
	Series  map[string]int
	Queries []NamedQuery
	Elapsed time.Duration
}

// Of is the telemetry of one workload (never nil).
func (f *FleetTelemetry) Of(k WorkloadKey) *WorkloadTelemetry {
	if t, ok := f.Workloads[k]; ok {
		return t
	}
	return &WorkloadTelemetry{}
}

// keyLabels are the labels that name the workload in each query's result.
var keyLabels = map[string][2]string{
	QueryInboundPeak: {"destination_workload_namespace", "destination_workload"},
	QueryInbound:     {"destination_workload_namespace", "destination_workload"},
	QueryOutbound:    {"source_workload_namespace", "source_workload"},
}

// Fleet sends the fixed set of queries (a few at once) and files each
// answer under its workload. A query that fails fails the whole; a metric
// that is absent is an empty answer, for the caller to word.
func (c *Client) Fleet(ctx context.Context, q FleetQuery) (*FleetTelemetry, error) {
	if err := q.Validate(); err != nil {
		return nil, err
	}
	queries := FleetQueries(q)
	parallel := q.Parallel
	if parallel <= 0 {
		parallel = DefaultParallel
	}
	start := time.Now()
	answers := make([][]Sample, len(queries))
	errs := make([]error, len(queries))
	sem := make(chan struct{}, parallel)
	var wg sync.WaitGroup
	for i, nq := range queries {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			answers[i], errs[i] = c.Vector(ctx, nq.Expr, q.At)
		}()
	}
	wg.Wait()
	out := &FleetTelemetry{Workloads: map[WorkloadKey]*WorkloadTelemetry{}, Series: map[string]int{}, Queries: queries, Elapsed: time.Since(start)}
	for i, nq := range queries {
		if errs[i] != nil {
			return nil, fmt.Errorf("%s: %w", nq.Name, errs[i])
		}
		out.Series[nq.Name] = len(answers[i])
		for _, s := range answers[i] {
			out.file(nq.Name, s)
		}
	}
	return out, nil
}

func (f *FleetTelemetry) file(query string, s Sample) {
	if math.IsNaN(s.Value) || math.IsInf(s.Value, 0) {
		return
	}
	labels := [2]string{"namespace", "workload"}
	if l, ok := keyLabels[query]; ok {
		labels = l
	}
	k := WorkloadKey{Namespace: s.Labels[labels[0]], Name: s.Labels[labels[1]]}
	if k.Name == "" || k.Name == "unknown" {
		return // a pod whose name implies no workload, or Istio's unknown peer
	}
	t, ok := f.Workloads[k]
	if !ok {
		t = &WorkloadTelemetry{}
		f.Workloads[k] = t
	}
	fig := Figure{Value: s.Value, Found: true}
	switch query {
	case QueryInboundPeak:
		t.InboundPeakPerPod = fig
	case QueryInbound:
		t.InboundRequests = fig
	case QueryOutbound:
		if t.Outbound == nil {
			t.Outbound = map[string]float64{}
		}
		t.Outbound[s.Labels["destination_service"]] += s.Value
	case QueryRetries:
		t.Retries = fig
	case QueryProxyCPUPeak:
		t.ProxyCPUPeak = fig
	case QueryAppCPUPeak:
		t.AppCPUPeak = fig
	case QueryThrottledPeak:
		t.ThrottledPeak = fig
	case QueryProxyMemory:
		t.ProxyMemoryMax = fig
	case QueryAppMemory:
		t.AppMemoryMax = fig
	}
}

// NotAService are the destination_service values Istio reports for
// traffic that reached no mesh service: an unknown peer, traffic passed
// through to an address outside the registry, and traffic dropped.
var NotAService = []string{"", "unknown", "PassthroughCluster", "BlackHoleCluster", "InboundPassthroughClusterIpv4", "InboundPassthroughClusterIpv6"}

// Called lists the destination services of outbound with requests,
// sorted, leaving out NotAService.
func Called(outbound map[string]float64) []string {
	var out []string
	for host, n := range outbound {
		if n > 0 && !slices.Contains(NotAService, host) {
			out = append(out, host)
		}
	}
	slices.Sort(out)
	return out
}

// Destinations are the services each workload called over a window.
type Destinations struct {
	Window    time.Duration
	Workloads map[WorkloadKey]map[string]float64
}

// Destinations reads, in one query, the destination services every
// workload of the namespaces (empty: all) called over the window ending at.
func (c *Client) Destinations(ctx context.Context, namespaces []string, window time.Duration, at time.Time) (*Destinations, error) {
	if window <= 0 {
		return nil, fmt.Errorf("window must be > 0, got %s", window)
	}
	samples, err := c.Vector(ctx, OutboundQuery(namespaces, window), at)
	if err != nil {
		return nil, err
	}
	d := &Destinations{Window: window, Workloads: map[WorkloadKey]map[string]float64{}}
	for _, s := range samples {
		k := WorkloadKey{Namespace: s.Labels["source_workload_namespace"], Name: s.Labels["source_workload"]}
		if d.Workloads[k] == nil {
			d.Workloads[k] = map[string]float64{}
		}
		d.Workloads[k][s.Labels["destination_service"]] += s.Value
	}
	return d, nil
}

// Covers says whether the workload sent any request in the window: one
// that did not is absent from the telemetry, not known to call nothing.
func (d *Destinations) Covers(namespace, workload string) bool {
	_, ok := d.Workloads[WorkloadKey{Namespace: namespace, Name: workload}]
	return ok
}

// OutboundHosts lists the services (FQDNs) the workload called: what the
// onboarding check's Telemetry asks.
func (d *Destinations) OutboundHosts(namespace, workload string) ([]string, error) {
	return Called(d.Workloads[WorkloadKey{Namespace: namespace, Name: workload}]), nil
}
