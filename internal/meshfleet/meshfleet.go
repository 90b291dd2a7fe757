// Package meshfleet generates a mesh's telemetry history from a known
// truth, for the capacity tests and benchmark: each workload's inbound rate
// follows a daily shape, its calls per inbound request, retries, and its
// sidecar's CPU follow a known line with seeded noise, and the history is
// written as OpenMetrics text (Istio's istio_requests_total, Envoy's
// envoy_cluster_upstream_rq_retry, cAdvisor's container series) for
// `promtool tsdb create-blocks-from openmetrics`. The truth's own figures
// (the peak, the hops, the CPU at the peak) are what the tests assert
// against.
package meshfleet

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// Call is an outbound call the app makes per inbound request.
type Call struct {
	// Service is the destination's FQDN; Namespace and Workload name it in
	// Istio's destination labels.
	Service, Namespace, Workload string
	PerInbound                   float64
}

// Workload is one workload's truth.
type Workload struct {
	Namespace, Name string
	// Pods are its pods' names (those the cluster shows, for a test).
	Pods []string
	// PeakInboundPerPod is the inbound RPS per pod at the daily peak;
	// Trough the daily minimum as a share of it; PeakHour the UTC hour of
	// the peak.
	PeakInboundPerPod float64
	Trough            float64
	PeakHour          float64
	// Caller is the source_workload of its inbound requests.
	Caller string
	Calls  []Call
	// RetryRatio is the retries per outbound request.
	RetryRatio float64
	// Consumer makes the daily rate drive its calls without any inbound
	// request (a queue consumer): PeakInboundPerPod is then the rate of
	// the work that makes the calls, and no inbound request is recorded.
	Consumer bool
	// The sidecar's true CPU: ProxyIdle + ProxyCoresPerKRPS x sidecar RPS
	// / 1000, times (1 + noise), noise ~ N(0, ProxyNoise) per scrape.
	ProxyIdle, ProxyCoresPerKRPS, ProxyNoise float64
	AppIdle, AppCoresPerKRPS                 float64
	ProxyMemory, AppMemory                   float64
	// ThrottledAtPeak is the share of CFS periods throttled at the peak
	// (none below 80% of the peak load); CPULimited says CFS periods are
	// exported at all (a CPU limit is set).
	ThrottledAtPeak float64
	CPULimited      bool

	// What is missing: no sidecar at all (no Istio series, no istio-proxy
	// container), no cAdvisor series, no Envoy retry counter.
	NoSidecar, NoCAdvisor, NoRetryMetric bool
}

// Load is the share of the peak inbound rate at t: the daily shape, a
// cosine between Trough and 1 peaking at PeakHour.
func (w Workload) Load(t time.Time) float64 {
	h := float64(t.UTC().Hour()) + float64(t.UTC().Minute())/60 + float64(t.UTC().Second())/3600
	return w.Trough + (1-w.Trough)*(1+math.Cos(2*math.Pi*(h-w.PeakHour)/24))/2
}

// InboundPerPod is the inbound RPS per pod at t.
func (w Workload) InboundPerPod(t time.Time) float64 { return w.PeakInboundPerPod * w.Load(t) }

// CallsPerInbound is the outbound calls per inbound request (per unit of
// work for a consumer), retries not counted.
func (w Workload) CallsPerInbound() float64 {
	calls := 0.0
	for _, c := range w.Calls {
		calls += c.PerInbound
	}
	return calls
}

// Hops is the requests through the sidecar per inbound call: the inbound
// request, its calls and their retries.
func (w Workload) Hops() float64 { return 1 + w.CallsPerInbound()*(1+w.RetryRatio) }

// SidecarRPS is the requests through the sidecar per pod at a rate per pod
// of the daily shape (inbound requests, or a consumer's work).
func (w Workload) SidecarRPS(rate float64) float64 {
	if w.Consumer {
		return rate * w.CallsPerInbound() * (1 + w.RetryRatio)
	}
	return rate * w.Hops()
}

// ProxyCores is the sidecar's CPU (noise-free) at a rate per pod.
func (w Workload) ProxyCores(rate float64) float64 {
	return w.ProxyIdle + w.ProxyCoresPerKRPS*w.SidecarRPS(rate)/1000
}

// ThrottledShare is the share of periods throttled at load (0..1 of peak).
func (w Workload) ThrottledShare(load float64) float64 {
	return w.ThrottledAtPeak * math.Max(0, (load-0.8)/0.2)
}

// History is the fleet's telemetry from Start to End, sampled every Scrape.
type History struct {
	Workloads []Workload
	Start     time.Time
	End       time.Time
	Scrape    time.Duration
	Seed      uint64
}

// podState is one pod's counters.
type podState struct {
	inbound    float64
	outbound   []float64
	retries    []float64
	proxyCPU   float64
	appCPU     float64
	periods    float64
	throttled  float64
	proxyNoise *rand.Rand
}

// WriteOpenMetrics writes the samples of [from, to) in OpenMetrics text,
// ending with # EOF. The counters run from Start.
func (h History) WriteOpenMetrics(out io.Writer, from, to time.Time) error {
	g := h.Generator()
	if err := g.WriteUntil(io.Discard, from, false); err != nil {
		return err
	}
	return g.WriteUntil(out, to, true)
}

// Generator writes a history in consecutive pieces, its counters carried
// from one to the next.
type Generator struct {
	h      History
	states [][]podState
	next   time.Time
}

// Generator starts at the history's Start.
func (h History) Generator() *Generator {
	return &Generator{h: h, states: h.initial(), next: h.Start}
}

// WriteUntil writes (when emit) the samples from where the generator
// stands up to to (excluded), ending with # EOF.
func (g *Generator) WriteUntil(out io.Writer, to time.Time, emit bool) error {
	h := g.h
	w := bufio.NewWriterSize(out, 1<<20)
	buf := make([]byte, 0, 512)
	for ; g.next.Before(to); g.next = g.next.Add(h.Scrape) {
		t := g.next
		ts := strconv.FormatInt(t.Unix(), 10)
		for wi := range h.Workloads {
			wl := &h.Workloads[wi]
			for pi, pod := range wl.Pods {
				s := &g.states[wi][pi]
				if t.After(h.Start) {
					h.advance(wl, s, t)
				}
				if emit {
					buf = h.appendPod(buf[:0], wl, pod, s, ts)
					if _, err := w.Write(buf); err != nil {
						return err
					}
				}
			}
		}
	}
	if !emit {
		return nil
	}
	if _, err := io.WriteString(w, "# EOF\n"); err != nil {
		return err
	}
	return w.Flush()
}

func (h History) initial() [][]podState {
	states := make([][]podState, len(h.Workloads))
	for wi, wl := range h.Workloads {
		states[wi] = make([]podState, len(wl.Pods))
		for pi := range wl.Pods {
			states[wi][pi] = podState{outbound: make([]float64, len(wl.Calls)), retries: make([]float64, len(wl.Calls)),
				proxyNoise: rand.New(rand.NewPCG(h.Seed, uint64(wi)<<20|uint64(pi)))}
		}
	}
	return states
}

// advance adds one scrape interval ending at t to the pod's counters, at
// the rates of the interval's middle.
func (h History) advance(wl *Workload, s *podState, t time.Time) {
	dt := h.Scrape.Seconds()
	mid := t.Add(-h.Scrape / 2)
	load := wl.Load(mid)
	rate := wl.PeakInboundPerPod * load
	if !wl.Consumer {
		s.inbound += rate * dt
	}
	for i, c := range wl.Calls {
		s.outbound[i] += rate * c.PerInbound * dt
		s.retries[i] += rate * c.PerInbound * wl.RetryRatio * dt
	}
	noise := 1 + wl.ProxyNoise*s.proxyNoise.NormFloat64()
	s.proxyCPU += math.Max(0, wl.ProxyCores(rate)*noise) * dt
	s.appCPU += (wl.AppIdle + wl.AppCoresPerKRPS*rate/1000) * dt
	periods := 10 * dt // a 100 ms CFS period
	s.periods += periods
	s.throttled += periods * wl.ThrottledShare(load)
}

func (h History) appendPod(b []byte, wl *Workload, pod string, s *podState, ts string) []byte {
	line := func(name, labels string, v float64) {
		b = append(b, name...)
		b = append(b, '{')
		b = append(b, labels...)
		b = append(b, "} "...)
		b = strconv.AppendFloat(b, v, 'g', 10, 64)
		b = append(b, ' ')
		b = append(b, ts...)
		b = append(b, '\n')
	}
	target := `namespace="` + wl.Namespace + `",pod="` + pod + `"`
	if !wl.NoSidecar {
		caller := wl.Caller
		if caller == "" {
			caller = "unknown"
		}
		if !wl.Consumer && wl.PeakInboundPerPod > 0 { // no request, no series
			line("istio_requests_total", `reporter="destination",source_workload="`+caller+`",source_workload_namespace="`+wl.Namespace+
				`",destination_workload="`+wl.Name+`",destination_workload_namespace="`+wl.Namespace+`",destination_service="`+
				wl.Name+"."+wl.Namespace+".svc.cluster.local"+`",response_code="200",`+target, s.inbound)
		}
		for i, c := range wl.Calls {
			line("istio_requests_total", `reporter="source",source_workload="`+wl.Name+`",source_workload_namespace="`+wl.Namespace+
				`",destination_workload="`+c.Workload+`",destination_workload_namespace="`+c.Namespace+`",destination_service="`+
				c.Service+`",response_code="200",`+target, s.outbound[i])
			if !wl.NoRetryMetric {
				line("envoy_cluster_upstream_rq_retry", `cluster_name="outbound|8080||`+c.Service+`",`+target, s.retries[i])
			}
		}
		if !wl.NoRetryMetric {
			// An inbound cluster's retries are not the sidecar's own: the queries leave them out.
			line("envoy_cluster_upstream_rq_retry", `cluster_name="inbound|8080||",`+target, s.inbound)
		}
	}
	if wl.NoCAdvisor {
		return b
	}
	containers := []struct {
		name     string
		cpu, mem float64
	}{{"app", s.appCPU, wl.AppMemory}}
	if !wl.NoSidecar {
		containers = append(containers, struct {
			name     string
			cpu, mem float64
		}{"istio-proxy", s.proxyCPU, wl.ProxyMemory})
	}
	podCPU := 0.0
	for _, c := range containers {
		l := target + `,container="` + c.name + `"`
		line("container_cpu_usage_seconds_total", l, c.cpu)
		line("container_memory_working_set_bytes", l, c.mem)
		if wl.CPULimited && c.name == "istio-proxy" {
			line("container_cpu_cfs_periods_total", l, math.Floor(s.periods))
			line("container_cpu_cfs_throttled_periods_total", l, math.Floor(s.throttled))
		}
		podCPU += c.cpu
	}
	// The pod's own cgroup (container=""): the queries must not count it twice.
	line("container_cpu_usage_seconds_total", target+`,container=""`, podCPU)
	return b
}

// WriteChunks writes the history as OpenMetrics files of at most chunk
// each (promtool maps its whole input into memory, so a long history goes
// in pieces) and returns their paths in time order. each, when set, is
// called with every file once written, so that a caller can backfill it
// and remove it before the next one is written.
func (h History) WriteChunks(dir string, chunk time.Duration, each func(path string) error) ([]string, error) {
	g := h.Generator()
	var paths []string
	for from := h.Start; from.Before(h.End); from = from.Add(chunk) {
		to := from.Add(chunk)
		if to.After(h.End) {
			to = h.End
		}
		p := filepath.Join(dir, fmt.Sprintf("history-%d.om", from.Unix()))
		f, err := os.Create(p)
		if err != nil {
			return nil, err
		}
		err = g.WriteUntil(f, to, true)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return nil, err
		}
		paths = append(paths, p)
		if each != nil {
			if err := each(p); err != nil {
				return nil, err
			}
		}
	}
	return paths, nil
}
