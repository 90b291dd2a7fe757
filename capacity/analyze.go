package capacity

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/prometheus/common/model"

	"github.com/proxysizer/proxysizer/cluster/prom"
	"github.com/proxysizer/proxysizer/internal/input"
	psmodel "github.com/proxysizer/proxysizer/model"
	"github.com/proxysizer/proxysizer/profiles"
	"github.com/proxysizer/proxysizer/sizing"
)

// Options are the sizing knobs, as plan takes them, and the authz upstreams.
type Options struct {
	Profile          profiles.Profile
	Headroom         float64
	CPULimit         sizing.CPULimit
	MemoryLimitRatio float64
	// AuthzUpstreams are the destination services (FQDNs) whose calls are
	// authn/z calls rather than the app's own outbound calls.
	AuthzUpstreams []string
	// GeneratedAt stamps the report (zero: the telemetry's time).
	GeneratedAt time.Time
	// Names shows the sizing core's inputs in the caller's words (the CLI:
	// its flags) in the reasons and assumptions.
	Names input.Names
}

// ThrottledRiskRatio is the share of CFS periods throttled at the peak from
// which a sidecar is reported throttled: kubernetes-mixin's CPUThrottlingHigh
// alert fires at 25% over 5 minutes.
const ThrottledRiskRatio = 0.25

// profileMisfit is the median error beyond which the report says the
// profile does not fit the mesh.
const profileMisfit = 0.25

// Analyze plans every workload of the fleet and sums the fleet.
func Analyze(f *Fleet, o Options) (*Report, error) {
	if err := o.Profile.Validate(); err != nil {
		return nil, fmt.Errorf("profile %s: %w", o.Profile.Name, err)
	}
	if o.MemoryLimitRatio <= 0 {
		o.MemoryLimitRatio = sizing.DefaultMemoryLimitRatio
	}
	r := &Report{
		GeneratedAt: o.GeneratedAt,
		Namespaces:  slices.Clone(f.Namespaces),
		Kubernetes:  f.K8sGitVersion,
		Profile: sizing.ProfileRef{Name: o.Profile.Name, Kind: o.Profile.Kind, Component: o.Profile.Component,
			Proxy: o.Profile.Proxy, Source: o.Profile.Provenance.Source},
		Telemetry:   summarizeTelemetry(f.Telemetry),
		Workloads:   []WorkloadReport{},
		Risks:       []Risk{},
		Assumptions: []string{},
		Notes:       slices.Clone(f.Notes),
	}
	if r.GeneratedAt.IsZero() {
		r.GeneratedAt = f.Telemetry.At
	}
	if r.Namespaces == nil {
		r.Namespaces = []string{}
	}
	r.Notes = append(r.Notes, coverageNotes(f.Telemetry)...)
	a := analysis{fleet: f, opts: o, assumptions: map[string]bool{}}
	for i := range f.Workloads {
		wr, err := a.workload(&f.Workloads[i])
		if err != nil {
			return nil, err
		}
		r.Workloads = append(r.Workloads, wr)
		r.Risks = append(r.Risks, wr.Risks...)
	}
	for _, s := range a.assumptionOrder {
		r.Assumptions = append(r.Assumptions, s)
	}
	sort.SliceStable(r.Risks, func(i, j int) bool {
		return slices.Index(RiskKinds, r.Risks[i].Kind) < slices.Index(RiskKinds, r.Risks[j].Kind)
	})
	r.ByNamespace, r.Total = sumFleet(r.Workloads)
	r.Model = checkFleetModel(r.Workloads, o.Profile)
	return r, nil
}

func summarizeTelemetry(t TelemetryRun) TelemetrySummary {
	s := TelemetrySummary{
		At: t.At, Window: model.Duration(t.Window).String(), RateWindow: model.Duration(t.RateWindow).String(),
		PeakQuantile: t.Quantile, Queries: t.Queries, QueriesSent: t.QueriesSent,
		QuerySeconds: math.Round(t.Elapsed.Seconds()*1000) / 1000, SeriesPerQuery: t.Series,
		ScrapeIntervalWhy: t.ScrapeInterval.From,
	}
	s.PeakRule = PeakRule(t.Quantile, t.RateWindow, t.Window)
	if t.ScrapeInterval.Found {
		s.ScrapeInterval = model.Duration(t.ScrapeInterval.Interval).String()
	}
	if s.Queries == nil {
		s.Queries = []prom.NamedQuery{}
	}
	if s.SeriesPerQuery == nil {
		s.SeriesPerQuery = map[string]int{}
	}
	return s
}

// PeakRule words the peak: "the 99th percentile of 5m rates over 1w".
func PeakRule(q float64, rate, window time.Duration) string {
	return fmt.Sprintf("the %s percentile of %s rates over %s", ordinal(q*100), model.Duration(rate), model.Duration(window))
}

func ordinal(p float64) string {
	s := strings.TrimRight(strings.TrimRight(fmt.Sprintf("%.2f", p), "0"), ".")
	switch {
	case strings.HasSuffix(s, "11"), strings.HasSuffix(s, "12"), strings.HasSuffix(s, "13"):
		return s + "th"
	case strings.HasSuffix(s, "1"):
		return s + "st"
	case strings.HasSuffix(s, "2"):
		return s + "nd"
	case strings.HasSuffix(s, "3"):
		return s + "rd"
	}
	return s + "th"
}

// coverageNotes say which metrics Prometheus lacks, fleet-wide, and what
// that leaves out.
func coverageNotes(t TelemetryRun) []string {
	var n []string
	if !t.Has(prom.QueryInbound) && !t.Has(prom.QueryOutbound) {
		n = append(n, "no istio_requests_total series for these namespaces: no traffic figures, so no workload is sized from its traffic (is Istio's telemetry scraped, and are the sidecars' :15090/stats/prometheus endpoints a target?)")
	}
	if !t.Has(prom.QueryRetries) {
		n = append(n, "no envoy_cluster_upstream_rq_retry series: retries are not counted (Istio's default stats inclusion leaves Envoy's cluster stats out; add upstream_rq_retry to the proxy's statsInclusionSuffixes or proxyStatsMatcher to measure them)")
	}
	if !t.Has(prom.QueryProxyCPUPeak) && !t.Has(prom.QueryProxyMemory) {
		n = append(n, "no cAdvisor series for container=\"istio-proxy\": the sidecars' CPU, throttling and memory are not measured, so the model is not checked and the used figures are missing")
	}
	return n
}

type analysis struct {
	fleet           *Fleet
	opts            Options
	assumptions     map[string]bool
	assumptionOrder []string
}

func (a *analysis) assume(s string) {
	if !a.assumptions[s] {
		a.assumptions[s] = true
		a.assumptionOrder = append(a.assumptionOrder, s)
	}
}

func (a *analysis) workload(w *Workload) (WorkloadReport, error) {
	wr := WorkloadReport{Kind: string(w.Kind), Namespace: w.Namespace, Name: w.Name, Risks: []Risk{}, Notes: []string{}}
	if w.TelemetryNote != "" {
		wr.Notes = append(wr.Notes, w.TelemetryNote)
	}
	wr.Load = a.load(w, &wr)
	wr.Current = current(w)
	wr.Config = configReport(w)
	if !w.Sidecar.Found {
		wr.Status, wr.StatusReason = StatusNoSidecar, "no sidecar: no sidecar.istio.io resource annotations, no istio-proxy container in the template or a running pod, and none in the telemetry; not in the mesh, nothing to size"
		return wr, nil
	}
	wr.Risks = risks(w, wr)
	status, reason, ok := a.sizable(w, &wr)
	wr.Status, wr.StatusReason = status, reason
	if !ok {
		return wr, nil
	}
	plan, err := a.recommend(w, &wr)
	if err != nil {
		return WorkloadReport{}, fmt.Errorf("%s: %w", wr.ID(), err)
	}
	wr.Model = a.modelCheck(w, wr, plan)
	wr.Config.price(a.opts.Profile, plan.Concurrency, w.Replicas)
	wr.Totals = totals(w, wr)
	return wr, nil
}

// load is the traffic of the workload: totals over the window, the hops
// each inbound call causes, and the per-pod rates at the peak.
func (a *analysis) load(w *Workload, wr *WorkloadReport) Load {
	t := w.Telemetry
	l := Load{Replicas: w.Replicas, LivePods: w.LivePods, Destinations: prom.Called(t.Outbound)}
	if l.Destinations == nil {
		l.Destinations = []string{}
	}
	if h := w.HPA; h != nil {
		l.HasHPA, l.HPAMin, l.HPAMax, l.HPATarget, l.HPAMetric = true, h.Min, h.Max, h.TargetPercent, h.Metric
	}
	l.InboundRequests = t.InboundRequests.Value
	for host, n := range t.Outbound {
		if slices.Contains(a.opts.AuthzUpstreams, host) {
			l.AuthzRequests += n
		} else {
			l.OutboundRequests += n
		}
	}
	l.Retries, l.RetriesMeasured = t.Retries.Value, t.Retries.Found
	if !t.Retries.Found && a.fleet.Telemetry.Has(prom.QueryRetries) && w.Sidecar.Found && l.OutboundRequests+l.AuthzRequests > 0 {
		wr.Notes = append(wr.Notes, "no envoy_cluster_upstream_rq_retry series for this workload (its sidecar's Envoy stats are not scraped, or it called no upstream): retries taken as 0")
	}
	l.Hops = a.fanout(l, wr).Breakdown()
	l.InboundRPSPerPodAtPeak = t.InboundPeakPerPod.Value
	l.OutboundRPSPerPodAtPeak = l.InboundRPSPerPodAtPeak * l.Hops.Outbound
	l.AuthzRPSPerPodAtPeak = l.InboundRPSPerPodAtPeak * l.Hops.Authz
	l.RetryRPSPerPodAtPeak = l.InboundRPSPerPodAtPeak * l.Hops.Retries
	l.SidecarRPSPerPodAtPeak = l.InboundRPSPerPodAtPeak * l.Hops.Total
	return l
}

// fanout is the measured fan-out: outbound and authz calls per inbound
// call, and the share of those retried.
func (a *analysis) fanout(l Load, wr *WorkloadReport) psmodel.Fanout {
	var f psmodel.Fanout
	if l.InboundRequests <= 0 {
		return f
	}
	f.Outbound = l.OutboundRequests / l.InboundRequests
	f.Authz = l.AuthzRequests / l.InboundRequests
	if calls := l.OutboundRequests + l.AuthzRequests; calls > 0 {
		f.RetryRatio = l.Retries / calls
	}
	if f.RetryRatio > 1 {
		wr.Notes = append(wr.Notes, fmt.Sprintf("%.2f retries per outbound request (more than one each): counted as 1, the sizing core's bound", f.RetryRatio))
		f.RetryRatio = 1
	}
	return f
}

// sizable says whether the workload's traffic can be sized, and how.
func (a *analysis) sizable(w *Workload, wr *WorkloadReport) (status, reason string, ok bool) {
	t, run := w.Telemetry, a.fleet.Telemetry
	if !run.Has(prom.QueryInbound) && !run.Has(prom.QueryOutbound) {
		return StatusNoTraffic, "no istio_requests_total series in Prometheus for these namespaces: not sized", false
	}
	inbound := t.InboundRequests.Value
	switch {
	case inbound > 0 && t.InboundPeakPerPod.Found:
		return StatusSized, "", true
	case inbound > 0:
		return StatusNoTraffic, "inbound requests over the window but no per-pod peak (no pod label on istio_requests_total): not sized", false
	case wr.Load.OutboundRequests+wr.Load.AuthzRequests > 0:
		return StatusNoTraffic, fmt.Sprintf("it sent %.0f requests but received none in the window: the sizing core sizes from inbound calls; size it with `proxysizer plan --rps-per-pod` from its outbound rate", wr.Load.OutboundRequests+wr.Load.AuthzRequests), false
	case t.ProxyCPUPeak.Found || t.ProxyMemoryMax.Found:
		return StatusIdle, "no requests through its sidecar in the window, while cAdvisor shows the sidecar running: sized for an idle proxy", true
	}
	return StatusNoTraffic, "no requests and no cAdvisor series for it in the window: not sized (no pods ran, or its telemetry is not scraped)", false
}

func (a *analysis) recommend(w *Workload, wr *WorkloadReport) (sizing.Plan, error) {
	l := wr.Load
	in := sizing.Input{
		AppRPSPerPod:     l.InboundRPSPerPodAtPeak,
		Replicas:         int(w.Replicas),
		Fanout:           psmodel.Fanout{Outbound: l.Hops.Outbound, Authz: l.Hops.Authz, RetryRatio: retryRatio(l.Hops)},
		Profile:          a.opts.Profile,
		Headroom:         a.opts.Headroom,
		CPULimit:         a.opts.CPULimit,
		MemoryLimitRatio: a.opts.MemoryLimitRatio,
		Names:            a.opts.Names,
		Config:           psmodel.Config{Clusters: sizing.DefaultClusters, Endpoints: sizing.DefaultEndpoints},
		ConfigDefault:    true,
	}
	if w.Config.Known {
		in.Config, in.ConfigDefault = psmodel.Config{Clusters: w.Config.Holds.Clusters, Endpoints: w.Config.Holds.Endpoints}, false
	}
	hpaChange := "none: no HPA scales it"
	if h := w.HPA; h != nil {
		var note string
		in.HPA, note = a.hpaInput(w, wr)
		hpaChange = note
	}
	plan, err := sizing.Recommend(in)
	if err != nil {
		return sizing.Plan{}, err
	}
	for _, s := range plan.Assumptions {
		if strings.HasPrefix(s, "no retries counted") {
			continue // retries are measured here; where they are not, a note says so
		}
		a.assume(s)
	}
	rec := &Recommendation{
		Concurrency: plan.Concurrency, ConcurrencyReason: plan.ConcurrencyReason,
		CPURequestMillicores: plan.Sidecar.CPURequestMillicores, CPULimitMillicores: plan.Sidecar.CPULimitMillicores,
		MemoryRequestBytes: plan.Sidecar.MemoryRequestBytes, MemoryLimitBytes: plan.Sidecar.MemoryLimitBytes,
		PeakSidecarRPS: plan.PeakSidecarRPS, Reasons: plan.Sidecar.Reasons,
		Annotations: sizing.Annotations(plan), HPA: plan.HPA, HPAChange: hpaChange, Warnings: plan.Warnings,
	}
	if plan.HPA != nil {
		rec.HPAChange = fmt.Sprintf("target: %s", plan.HPA.MetricReason)
	}
	wr.Recommendation = rec
	return plan, nil
}

func retryRatio(h psmodel.HopBreakdown) float64 {
	if calls := h.Outbound + h.Authz; calls > 0 {
		return h.Retries / calls
	}
	return 0
}

// hpaInput is the HPA recalculation's input for a workload whose HPA has a
// CPU utilisation target on the whole pod; nil with the reason otherwise.
func (a *analysis) hpaInput(w *Workload, wr *WorkloadReport) (*sizing.HPAInput, string) {
	h := w.HPA
	switch h.Metric {
	case HPAContainerResource:
		return nil, fmt.Sprintf("none: HPA %s already targets container %q alone, so the sidecar does not move it", h.Name, h.TargetContainer)
	case HPAOther:
		return nil, fmt.Sprintf("none: HPA %s has no CPU utilisation target", h.Name)
	}
	var app int64
	for _, c := range w.Containers {
		if !c.Proxy {
			if !c.HasRequest {
				return nil, fmt.Sprintf("not recalculated: container %q has no CPU request, so HPA %s cannot compute a utilisation", c.Name, h.Name)
			}
			app += c.RequestMillicores
		}
	}
	if app <= 0 {
		return nil, fmt.Sprintf("not recalculated: the app containers of %s have no CPU request", wr.ID())
	}
	in := &sizing.HPAInput{AppCPURequestMillicores: app, TargetPercent: h.TargetPercent, K8sVersion: a.fleet.K8sVersion,
		Deployment: w.Name, AppContainer: w.AppContainer, MinReplicas: h.Min, MaxReplicas: h.Max}
	if t := w.Telemetry; t.AppCPUPeak.Found && t.InboundPeakPerPod.Value > 0 {
		in.AppCoresPerKRPS = t.AppCPUPeak.Value / t.InboundPeakPerPod.Value * 1000
	}
	return in, ""
}

func current(w *Workload) Current {
	s, t := w.Sidecar, w.Telemetry
	c := Current{SidecarKind: s.Kind, Resources: s.Resources, Concurrency: s.Concurrency, ConcurrencyKnown: s.ConcurrencyKnown,
		ConcurrencySource: s.ConcurrencySource}
	if q := s.Resources.EffectiveCPURequest(); q != nil {
		c.CPURequestMillicores = q.MilliValue()
	}
	if q := s.Resources.CPULimit; q != nil {
		c.CPULimitMillicores = q.MilliValue()
	}
	if q := s.Resources.MemoryRequest; q != nil {
		c.MemoryRequestBytes = q.Value()
	} else if q := s.Resources.MemoryLimit; q != nil {
		c.MemoryRequestBytes = q.Value()
	}
	if q := s.Resources.MemoryLimit; q != nil {
		c.MemoryLimitBytes = q.Value()
	}
	c.CPUAtPeakMillicores = scaled(t.ProxyCPUPeak, 1000)
	c.ThrottledAtPeak = scaled(t.ThrottledPeak, 1)
	c.MemoryMaxBytes = scaled(t.ProxyMemoryMax, 1)
	c.AppCPUAtPeakMillicores = scaled(t.AppCPUPeak, 1000)
	c.AppMemoryMaxBytes = scaled(t.AppMemoryMax, 1)
	return c
}

func scaled(f prom.Figure, by float64) *float64 {
	if !f.Found {
		return nil
	}
	v := f.Value * by
	return &v
}

func configReport(w *Workload) ConfigReport {
	c := w.Config
	r := ConfigReport{Known: c.Known, Clusters: c.Holds.Clusters, Endpoints: c.Holds.Endpoints, Source: c.HoldsSource,
		ScopedKnown: c.ScopedKnown, ScopedClusters: c.Scoped.Clusters, ScopedEndpoints: c.Scoped.Endpoints, ScopedHosts: c.ScopedHosts}
	if r.ScopedHosts == nil {
		r.ScopedHosts = []string{}
	}
	if !c.Known {
		r.Source = "not read"
	}
	return r
}

// price is the memory a Sidecar scoped to the real destinations saves,
// in the profile's memory model at the recommended concurrency.
func (c *ConfigReport) price(p profiles.Profile, concurrency int, replicas int32) {
	if !c.Known || !c.ScopedKnown || c.ScopedClusters >= c.Clusters {
		return
	}
	now := p.Memory.Estimate(psmodel.Config{Clusters: c.Clusters, Endpoints: c.Endpoints}, concurrency).Total
	scoped := p.Memory.Estimate(psmodel.Config{Clusters: c.ScopedClusters, Endpoints: c.ScopedEndpoints}, concurrency).Total
	c.MemorySavedPerPodBytes = math.Max(0, now-scoped)
	c.MemorySavedBytes = c.MemorySavedPerPodBytes * float64(replicas)
}

// modelCheck sets the profile's prediction at the measured peak load, at
// the sidecar's current concurrency and CPU limit (the setting it was
// measured under), against the measured CPU there.
func (a *analysis) modelCheck(w *Workload, wr WorkloadReport, plan sizing.Plan) *ModelCheck {
	t := w.Telemetry
	if !t.ProxyCPUPeak.Found || t.ProxyCPUPeak.Value <= 0 {
		return nil
	}
	concurrency, basisNote := wr.Current.Concurrency, ""
	if !wr.Current.ConcurrencyKnown || concurrency <= 0 {
		concurrency, basisNote = plan.Concurrency, " (the current concurrency is not known: the recommended one's)"
	}
	cost, basis := a.opts.Profile.CostAt(concurrency, wr.Current.CPULimitMillicores)
	m := &ModelCheck{SidecarRPS: wr.Load.SidecarRPSPerPodAtPeak, MeasuredMillicores: t.ProxyCPUPeak.Value * 1000, CostBasis: basis + basisNote}
	m.PredictedMillicores = cost.CoresAt(m.SidecarRPS) * 1000
	m.Error = m.PredictedMillicores/m.MeasuredMillicores - 1
	m.PredictedMemoryBytes = a.opts.Profile.Memory.Estimate(psmodel.Config{Clusters: wr.Config.Clusters, Endpoints: wr.Config.Endpoints}, concurrency).Total
	if t.ProxyMemoryMax.Found && t.ProxyMemoryMax.Value > 0 && wr.Config.Known {
		e := m.PredictedMemoryBytes/t.ProxyMemoryMax.Value - 1
		m.MemoryError = &e
	}
	return m
}

func totals(w *Workload, wr WorkloadReport) WorkloadTotals {
	n := float64(w.Replicas)
	t := WorkloadTotals{
		CPURequestedMillicores: float64(wr.Current.CPURequestMillicores) * n,
		MemoryRequestedBytes:   float64(wr.Current.MemoryRequestBytes) * n,
	}
	if r := wr.Recommendation; r != nil {
		t.CPURecommendedMillicores = float64(r.CPURequestMillicores) * n
		t.MemoryRecommendedBytes = float64(r.MemoryRequestBytes) * n
	}
	if c := wr.Current.CPUAtPeakMillicores; c != nil {
		v := *c * n
		t.CPUUsedMillicores = &v
	}
	if m := wr.Current.MemoryMaxBytes; m != nil {
		v := *m * n
		t.MemoryUsedBytes = &v
	}
	return t
}

// sumFleet adds the sized workloads by namespace and in total.
func sumFleet(ws []WorkloadReport) ([]Totals, Totals) {
	by := map[string]*Totals{}
	total := Totals{}
	for _, w := range ws {
		t, ok := by[w.Namespace]
		if !ok {
			t = &Totals{Namespace: w.Namespace}
			by[w.Namespace] = t
		}
		for _, s := range []*Totals{t, &total} {
			s.add(w)
		}
	}
	out := make([]Totals, 0, len(by))
	for _, t := range by {
		out = append(out, *t)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Namespace < out[j].Namespace })
	return out, total
}

func (s *Totals) add(w WorkloadReport) {
	s.Workloads++
	if w.Recommendation == nil {
		return
	}
	s.Sized++
	s.Pods += int64(w.Load.Replicas)
	t := w.Totals
	s.CPURequestedMillicores += t.CPURequestedMillicores
	s.CPURecommendedMillicores += t.CPURecommendedMillicores
	s.MemoryRequestedBytes += t.MemoryRequestedBytes
	s.MemoryRecommendedBytes += t.MemoryRecommendedBytes
	s.CPUSavingMillicores = s.CPURequestedMillicores - s.CPURecommendedMillicores
	s.MemorySavingBytes = s.MemoryRequestedBytes - s.MemoryRecommendedBytes
	if t.CPUUsedMillicores != nil {
		s.Measured++
		s.CPUUsedMillicores += *t.CPUUsedMillicores
	}
	if t.MemoryUsedBytes != nil {
		s.MemoryUsedBytes += *t.MemoryUsedBytes
	}
	s.ScopedSidecarSavingBytes += w.Config.MemorySavedBytes
}

// checkFleetModel sets the profile against every measured workload: the
// median and total errors, and a line through the measurements.
func checkFleetModel(ws []WorkloadReport, p profiles.Profile) FleetModelCheck {
	c := FleetModelCheck{ProfileFit: p.CPU.CPUCost}
	var abs, xs, ys []float64
	var predicted, measured float64
	for _, w := range ws {
		if w.Model == nil {
			continue
		}
		abs = append(abs, math.Abs(w.Model.Error))
		predicted += w.Model.PredictedMillicores
		measured += w.Model.MeasuredMillicores
		xs = append(xs, w.Model.SidecarRPS)
		ys = append(ys, w.Model.MeasuredMillicores/1000)
	}
	c.Workloads = len(abs)
	if c.Workloads == 0 {
		c.Verdict = "no workload with both traffic and cAdvisor series: the profile is not checked"
		return c
	}
	c.MedianAbsError = psmodel.Median(abs)
	c.TotalError = predicted/measured - 1
	if fit, err := psmodel.FitLine(xs, ys); err == nil && fit.Slope >= 0 {
		c.Fit = &psmodel.CPUCost{IdleCores: math.Max(0, fit.Intercept), CoresPerKRPS: fit.Slope * 1000}
		c.FitR2 = fit.R2
	}
	word := "over-predicts"
	if c.TotalError < 0 {
		word = "under-predicts"
	}
	c.Verdict = fmt.Sprintf("profile %s %s the fleet's sidecar CPU at the peak by %.0f%% in total (median |error| %.0f%% over %d workloads)",
		p.Name, word, math.Abs(c.TotalError)*100, c.MedianAbsError*100, c.Workloads)
	if c.MedianAbsError > profileMisfit {
		c.Verdict += fmt.Sprintf("; beyond %.0f%%, it does not fit this mesh: measure one with `proxysizer sweep` and pass it with --profile", profileMisfit*100)
	}
	return c
}

// ServiceFQDN reads a service named as an FQDN (NAME.NAMESPACE.svc.DOMAIN)
// or as NAME.NAMESPACE, as Istio's destination_service spells it.
func ServiceFQDN(name, domain string) (string, error) {
	parts := strings.Split(name, ".")
	for _, p := range parts {
		if p == "" {
			return "", fmt.Errorf("expected a service as NAME.NAMESPACE or its FQDN, got %q", name)
		}
	}
	switch {
	case len(parts) == 2:
		return name + ".svc." + domain, nil
	case len(parts) > 3 && parts[2] == "svc":
		return name, nil
	}
	return "", fmt.Errorf("expected a service as NAME.NAMESPACE or NAME.NAMESPACE.svc.%s, got %q", domain, name)
}
