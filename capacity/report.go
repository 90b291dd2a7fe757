package capacity

import (
	"time"

	"github.com/proxysizer/proxysizer/cluster"
	"github.com/proxysizer/proxysizer/cluster/prom"
	"github.com/proxysizer/proxysizer/model"
	"github.com/proxysizer/proxysizer/sizing"
)

// Report is a capacity plan of a fleet. Its JSON field names are a
// contract (README).
type Report struct {
	GeneratedAt time.Time         `json:"generated_at"`
	Namespaces  []string          `json:"namespaces"`
	Kubernetes  string            `json:"kubernetes"`
	Profile     sizing.ProfileRef `json:"profile"`
	Telemetry   TelemetrySummary  `json:"telemetry"`
	Workloads   []WorkloadReport  `json:"workloads"`
	ByNamespace []Totals          `json:"by_namespace"`
	Total       Totals            `json:"total"`
	Model       FleetModelCheck   `json:"model_against_reality"`
	Risks       []Risk            `json:"risks"`
	// Assumptions hold what every recommendation took for granted (once,
	// not per workload); Notes what the telemetry lacked.
	Assumptions []string `json:"assumptions"`
	Notes       []string `json:"notes"`
}

// TelemetrySummary says what was read and how the peak was taken.
type TelemetrySummary struct {
	At                time.Time         `json:"at"`
	Window            string            `json:"window"`
	RateWindow        string            `json:"rate_window"`
	PeakQuantile      float64           `json:"peak_quantile"`
	PeakRule          string            `json:"peak_rule"`
	Queries           []prom.NamedQuery `json:"queries"`
	QueriesSent       int64             `json:"queries_sent"`
	QuerySeconds      float64           `json:"query_seconds"`
	SeriesPerQuery    map[string]int    `json:"series_per_query"`
	ScrapeInterval    string            `json:"scrape_interval,omitempty"`
	ScrapeIntervalWhy string            `json:"scrape_interval_source"`
}

// Status of a workload in the plan.
const (
	StatusSized     = "sized"      // recommended from its own traffic
	StatusIdle      = "idle"       // a sidecar with no requests in the window: sized for an idle proxy
	StatusNoSidecar = "no-sidecar" // not in the mesh: nothing to size
	StatusNoTraffic = "no-traffic" // no usable traffic figures: not sized
)

// WorkloadReport is one workload's plan.
type WorkloadReport struct {
	Kind      string `json:"kind"`
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	Status    string `json:"status"`
	// StatusReason says why a workload was not sized from its traffic.
	StatusReason string `json:"status_reason,omitempty"`

	Load           Load            `json:"load"`
	Current        Current         `json:"current"`
	Model          *ModelCheck     `json:"model_against_reality,omitempty"`
	Recommendation *Recommendation `json:"recommendation,omitempty"`
	Config         ConfigReport    `json:"config"`
	Totals         WorkloadTotals  `json:"totals"`
	Risks          []Risk          `json:"risks"`
	Notes          []string        `json:"notes"`
}

// ID names the workload in messages: "deployment shop/web".
func (w WorkloadReport) ID() string { return kindWord(w.Kind) + " " + w.Namespace + "/" + w.Name }

// Load is the workload's traffic, per pod.
type Load struct {
	Replicas  int32  `json:"replicas"`
	LivePods  int    `json:"live_pods"`
	HPAMin    int32  `json:"hpa_min_replicas,omitempty"`
	HPAMax    int32  `json:"hpa_max_replicas,omitempty"`
	HPATarget int    `json:"hpa_target_percent,omitempty"`
	HPAMetric string `json:"hpa_metric,omitempty"`
	HasHPA    bool   `json:"has_hpa"`
	// Over the window, all pods together.
	InboundRequests  float64 `json:"inbound_requests"`
	OutboundRequests float64 `json:"outbound_requests"`
	AuthzRequests    float64 `json:"authz_requests"`
	Retries          float64 `json:"retries"`
	RetriesMeasured  bool    `json:"retries_measured"`
	// Per inbound call, measured over the window.
	Hops model.HopBreakdown `json:"hops_per_inbound_request"`
	// At the peak, per pod: inbound as measured, the others its multiples
	// by the hops, and their sum through the sidecar.
	InboundRPSPerPodAtPeak  float64 `json:"inbound_rps_per_pod_at_peak"`
	OutboundRPSPerPodAtPeak float64 `json:"outbound_rps_per_pod_at_peak"`
	AuthzRPSPerPodAtPeak    float64 `json:"authz_rps_per_pod_at_peak"`
	RetryRPSPerPodAtPeak    float64 `json:"retry_rps_per_pod_at_peak"`
	SidecarRPSPerPodAtPeak  float64 `json:"sidecar_rps_per_pod_at_peak"`
	// Destinations are the services it called (reporter=source).
	Destinations []string `json:"destinations"`
}

// Current is the sidecar as it runs now, and what it used.
type Current struct {
	SidecarKind          string                   `json:"sidecar_kind"`
	Resources            cluster.SidecarResources `json:"resources"`
	CPURequestMillicores int64                    `json:"cpu_request_millicores"`
	CPULimitMillicores   int64                    `json:"cpu_limit_millicores"`
	MemoryRequestBytes   int64                    `json:"memory_request_bytes"`
	MemoryLimitBytes     int64                    `json:"memory_limit_bytes"`
	Concurrency          int                      `json:"concurrency"`
	ConcurrencyKnown     bool                     `json:"concurrency_known"`
	ConcurrencySource    string                   `json:"concurrency_source"`
	// Measured at the peak (per pod): CPU, the share of CFS periods
	// throttled, and the largest working set over the window.
	CPUAtPeakMillicores    *float64 `json:"cpu_at_peak_millicores"`
	ThrottledAtPeak        *float64 `json:"throttled_ratio_at_peak"`
	MemoryMaxBytes         *float64 `json:"memory_max_bytes"`
	AppCPUAtPeakMillicores *float64 `json:"app_cpu_at_peak_millicores"`
	AppMemoryMaxBytes      *float64 `json:"app_memory_max_bytes"`
}

// ModelCheck is the profile's prediction of the sidecar's CPU at the
// measured peak load, against what was measured there.
type ModelCheck struct {
	SidecarRPS          float64 `json:"sidecar_rps_per_pod"`
	PredictedMillicores float64 `json:"predicted_cpu_millicores"`
	MeasuredMillicores  float64 `json:"measured_cpu_millicores"`
	// Error is predicted / measured - 1: negative under-predicts.
	Error     float64 `json:"error"`
	CostBasis string  `json:"cost_basis"`
	// Memory: the profile's model at the configuration held, against the
	// largest working set measured.
	PredictedMemoryBytes float64  `json:"predicted_memory_bytes"`
	MemoryError          *float64 `json:"memory_error,omitempty"`
}

// Recommendation is the sizing core's answer for the workload.
type Recommendation struct {
	Concurrency          int               `json:"concurrency"`
	ConcurrencyReason    string            `json:"concurrency_reason"`
	CPURequestMillicores int64             `json:"cpu_request_millicores"`
	CPULimitMillicores   int64             `json:"cpu_limit_millicores"`
	MemoryRequestBytes   int64             `json:"memory_request_bytes"`
	MemoryLimitBytes     int64             `json:"memory_limit_bytes"`
	PeakSidecarRPS       float64           `json:"peak_sidecar_rps_per_pod"`
	Reasons              sizing.Reasons    `json:"reasons"`
	Annotations          map[string]string `json:"annotations"`
	HPA                  *sizing.HPA       `json:"hpa,omitempty"`
	// HPAChange says what happens to the HPA: "none" (no HPA, or one on the
	// app container alone), "target" (the CPU metric replaced), or why not.
	HPAChange string   `json:"hpa_change"`
	Warnings  []string `json:"warnings"`
}

// ConfigReport is the configuration the proxy holds, and the memory a
// Sidecar scoped to its real destinations would save.
type ConfigReport struct {
	Known           bool     `json:"known"`
	Clusters        int      `json:"clusters"`
	Endpoints       int      `json:"endpoints"`
	Source          string   `json:"source"`
	ScopedKnown     bool     `json:"scoped_known"`
	ScopedClusters  int      `json:"scoped_clusters"`
	ScopedEndpoints int      `json:"scoped_endpoints"`
	ScopedHosts     []string `json:"scoped_egress_hosts"`
	// MemorySavedPerPodBytes is the profile's memory model at the
	// recommended concurrency, held now minus scoped.
	MemorySavedPerPodBytes float64 `json:"memory_saved_per_pod_bytes"`
	MemorySavedBytes       float64 `json:"memory_saved_bytes"`
}

// WorkloadTotals are the workload's sidecar figures times its replicas.
type WorkloadTotals struct {
	CPURequestedMillicores   float64  `json:"cpu_requested_millicores"`
	CPURecommendedMillicores float64  `json:"cpu_recommended_millicores"`
	CPUUsedMillicores        *float64 `json:"cpu_used_at_peak_millicores"`
	MemoryRequestedBytes     float64  `json:"memory_requested_bytes"`
	MemoryRecommendedBytes   float64  `json:"memory_recommended_bytes"`
	MemoryUsedBytes          *float64 `json:"memory_used_max_bytes"`
}

// CPUSaving is requested minus recommended (negative: it needs more).
func (t WorkloadTotals) CPUSaving() float64 {
	return t.CPURequestedMillicores - t.CPURecommendedMillicores
}

// MemorySaving is requested minus recommended.
func (t WorkloadTotals) MemorySaving() float64 {
	return t.MemoryRequestedBytes - t.MemoryRecommendedBytes
}

// Totals sum the sized workloads of a namespace (or the fleet).
type Totals struct {
	Namespace string `json:"namespace,omitempty"`
	Workloads int    `json:"workloads"`
	Sized     int    `json:"sized"`
	Pods      int64  `json:"pods"`
	// Over the sized workloads: requested now, recommended, and used at the
	// peak (used sums the workloads with cAdvisor series only: Measured).
	CPURequestedMillicores   float64 `json:"cpu_requested_millicores"`
	CPURecommendedMillicores float64 `json:"cpu_recommended_millicores"`
	CPUUsedMillicores        float64 `json:"cpu_used_at_peak_millicores"`
	CPUSavingMillicores      float64 `json:"cpu_saving_millicores"`
	MemoryRequestedBytes     float64 `json:"memory_requested_bytes"`
	MemoryRecommendedBytes   float64 `json:"memory_recommended_bytes"`
	MemoryUsedBytes          float64 `json:"memory_used_max_bytes"`
	MemorySavingBytes        float64 `json:"memory_saving_bytes"`
	Measured                 int     `json:"measured"`
	// ScopedSidecarSavingBytes is the memory Sidecars scoped to the
	// workloads' real destinations would save, on top.
	ScopedSidecarSavingBytes float64 `json:"scoped_sidecar_saving_bytes"`
}

// FleetModelCheck is the profile against every measured workload.
type FleetModelCheck struct {
	Workloads int `json:"workloads"`
	// MedianAbsError is the median of |predicted / measured - 1|.
	MedianAbsError float64 `json:"median_abs_error"`
	// TotalError is the fleet's predicted CPU over its measured CPU, less 1.
	TotalError float64 `json:"total_error"`
	// Fit is a line through the workloads' measured peak CPU against their
	// peak sidecar RPS: the fleet's own cost, beside the profile's.
	Fit        *model.CPUCost `json:"fleet_fit,omitempty"`
	FitR2      float64        `json:"fleet_fit_r2,omitempty"`
	ProfileFit model.CPUCost  `json:"profile_cost"`
	Verdict    string         `json:"verdict"`
}

// Risk kinds.
const (
	RiskThrottled          = "throttled"
	RiskUsageAboveRequest  = "usage-above-request"
	RiskConcurrencyAbove   = "concurrency-above-limit"
	RiskMissingCPURequest  = "missing-cpu-request"
	RiskPartialAnnotations = "partial-annotations"
)

// RiskKinds lists the kinds in the order reports show them.
var RiskKinds = []string{RiskThrottled, RiskUsageAboveRequest, RiskConcurrencyAbove, RiskMissingCPURequest, RiskPartialAnnotations}

// Risk is one workload's risk and what it breaks.
type Risk struct {
	Kind     string `json:"kind"`
	Workload string `json:"workload"`
	Detail   string `json:"detail"`
}
