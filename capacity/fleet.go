package capacity

import (
	"time"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	"k8s.io/apimachinery/pkg/util/version"

	"github.com/proxysizer/proxysizer/cluster"
	"github.com/proxysizer/proxysizer/cluster/prom"
	"github.com/proxysizer/proxysizer/sizing"
)

// Fleet is what the readers gathered: every workload as the cluster shows
// it, with its telemetry, and how that telemetry was read.
type Fleet struct {
	// Namespaces covered; empty: every namespace.
	Namespaces []string `json:"namespaces"`
	Workloads  []Workload
	// K8sVersion is the API server's version (nil: unknown).
	K8sVersion    *version.Version
	K8sGitVersion string
	// MeshSource says where the mesh defaults came from.
	MeshSource string
	Telemetry  TelemetryRun
	// Notes are the readers' own remarks (a ConfigMap not readable, ...).
	Notes []string
}

// TelemetryRun is how the telemetry was read: the window and peak rule,
// the queries sent, and which metrics Prometheus holds for the namespaces
// covered.
type TelemetryRun struct {
	At         time.Time
	Window     time.Duration
	RateWindow time.Duration
	Quantile   float64
	Queries    []prom.NamedQuery
	// QueriesSent counts the PromQL queries of the run (a fixed number).
	QueriesSent int64
	Elapsed     time.Duration
	// Series is how many series each query returned.
	Series map[string]int
	// ScrapeInterval is the cAdvisor job's (Found false: unknown).
	ScrapeInterval prom.ScrapeInterval
}

// Has says whether a query returned any series: false means its metric is
// absent for the namespaces covered.
func (t TelemetryRun) Has(query string) bool { return t.Series[query] > 0 }

// Workload is one Deployment or StatefulSet, its sidecar, HPA and
// configuration as the cluster shows them, and its telemetry.
type Workload struct {
	Kind      cluster.WorkloadKind
	Namespace string
	Name      string
	// Replicas is the desired count now (the HPA's current choice where one
	// scales it).
	Replicas int32
	// PodLabels and Annotations are the pod template's; SelectorLabels the
	// selector's matchLabels.
	PodLabels      map[string]string
	SelectorLabels map[string]string
	Annotations    map[string]string
	// Containers are the pod's containers as the HPA's Resource metric sums
	// them (the sidecar included, marked Proxy).
	Containers   []sizing.PodContainer
	AppContainer string
	// LivePods is how many of its pods run now.
	LivePods int
	Sidecar  SidecarState
	HPA      *HPAState
	Config   ConfigState
	// Telemetry is what the fleet queries said of it.
	Telemetry prom.WorkloadTelemetry
	// TelemetryNote says why its telemetry may be partial (a name shared
	// by a Deployment and a StatefulSet, ...).
	TelemetryNote string
}

// Key is the workload as Istio's telemetry names it.
func (w Workload) Key() prom.WorkloadKey {
	return prom.WorkloadKey{Namespace: w.Namespace, Name: w.Name}
}

// SidecarState is the sidecar as it runs now.
type SidecarState struct {
	Found bool
	// Kind says how it shows: annotations, container, native-sidecar, or
	// "telemetry" (seen only in Prometheus: injected, with the mesh's
	// default resources).
	Kind      string
	Resources cluster.SidecarResources
	// Concurrency is the worker count (0 with ConcurrencyKnown false: the
	// node's cores); ConcurrencySource says where it comes from.
	Concurrency       int
	ConcurrencyKnown  bool
	ConcurrencySource string
	// ResourceAnnotations are the sidecar.istio.io resource annotations set.
	ResourceAnnotations []string
}

// HPAState is the HorizontalPodAutoscaler that scales the workload.
type HPAState struct {
	Object *autoscalingv2.HorizontalPodAutoscaler
	Name   string
	Min    int32
	Max    int32
	// Metric is "Resource" (CPU utilisation of the pod), "ContainerResource"
	// (of one container) or "other" (no CPU utilisation target).
	Metric          string
	TargetPercent   int
	TargetContainer string
	// CPUMetric is the index of the CPU Resource metric in Spec.Metrics (-1: none).
	CPUMetric int
}

// Metric kinds of HPAState.
const (
	HPAResource          = "Resource"
	HPAContainerResource = "ContainerResource"
	HPAOther             = "other"
)

// ConfigState is the configuration the proxy holds, and what a Sidecar
// scoped to the destinations it called would hold.
type ConfigState struct {
	Known       bool
	Holds       cluster.Scope
	HoldsSource string
	// Scoped is what a Sidecar with egress hosts ScopedHosts (the called
	// services and the root namespace) would hold.
	ScopedKnown bool
	Scoped      cluster.Scope
	ScopedHosts []string
}
