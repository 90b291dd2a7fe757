package check

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// Severity ranks a finding. The order matters: --fail-on compares against it.
type Severity int

const (
	Info Severity = iota
	Warning
	Error
)

func (s Severity) String() string {
	switch s {
	case Error:
		return "error"
	case Warning:
		return "warning"
	}
	return "info"
}

// SARIFLevel is the SARIF 2.1.0 result level for the severity.
func (s Severity) SARIFLevel() string {
	if s == Info {
		return "note"
	}
	return s.String()
}

func (s Severity) MarshalJSON() ([]byte, error) { return json.Marshal(s.String()) }

// ParseSeverity reads "info", "warning" or "error".
func ParseSeverity(s string) (Severity, error) {
	for _, v := range []Severity{Info, Warning, Error} {
		if v.String() == s {
			return v, nil
		}
	}
	return 0, fmt.Errorf("expected info, warning or error, got %q", s)
}

// Category groups checks as the catalogue does.
type Category string

const (
	Lifecycle Category = "lifecycle"
	Resources Category = "resources and scaling"
	Traffic   Category = "traffic"
	Scope     Category = "configuration scope"
)

// Source is a public document a check relies on.
type Source struct {
	Title string `json:"title"`
	URL   string `json:"url,omitempty"`
}

// Check is one entry of the catalogue. Severity is the default; a finding
// may be raised or lowered where the check says so (Escalation).
type Check struct {
	ID         string   `json:"id"`
	Name       string   `json:"name"`
	Category   Category `json:"category"`
	Severity   Severity `json:"severity"`
	Title      string   `json:"title"`
	Breaks     string   `json:"breaks"`
	Escalation string   `json:"escalation,omitempty"`
	Sources    []Source `json:"sources"`
	// Needs says what input the check needs beyond manifests ("" for none):
	// checks whose input is missing are listed as not evaluated.
	Needs string `json:"needs,omitempty"`

	run func(*evaluation) `json:"-"`
}

// Public sources, named once.
var (
	srcBlog = Source{"Yangyang Zhao, \"Istio networking pitfalls\" (blog post, November 2023)", ""}
	srcTalk = Source{"Mercari, \"Istio is a long wild river\" (conference talk)", ""}

	srcProxyConfig      = Source{"Istio ProxyConfig reference (holdApplicationUntilProxyStarts, terminationDrainDuration, concurrency, proxyMetadata)", "https://istio.io/latest/docs/reference/config/istio.mesh.v1alpha1/#ProxyConfig"}
	srcAgentDrain       = Source{"istio/istio pkg/envoy/agent.go: the agent's drain (terminationDrainDuration, or MINIMUM_DRAIN_DURATION then zero active connections)", "https://github.com/istio/istio/blob/master/pkg/envoy/agent.go"}
	srcAgentOptions     = Source{"istio/istio pilot/cmd/pilot-agent/options/options.go: EXIT_ON_ZERO_ACTIVE_CONNECTIONS, MINIMUM_DRAIN_DURATION", "https://github.com/istio/istio/blob/master/pilot/cmd/pilot-agent/options/options.go"}
	srcPodTermination   = Source{"Kubernetes: termination of Pods (preStop, grace period, the 2 s extension)", "https://kubernetes.io/docs/concepts/workloads/pods/pod-lifecycle/#pod-termination"}
	srcInjectTemplate   = Source{"istio/istio injection-template.yaml (resource annotations, native sidecars, holdApplicationUntilProxyStarts)", "https://github.com/istio/istio/blob/master/manifests/charts/istio-control/istio-discovery/files/injection-template.yaml"}
	srcNativeBlog       = Source{"Istio blog: Kubernetes native sidecars in Istio (Istio 1.19, ENABLE_NATIVE_SIDECARS)", "https://istio.io/latest/blog/2023/native-sidecars/"}
	srcNativeAuto       = Source{"istio/istio#48794: automatic ENABLE_NATIVE_SIDECARS (auto, on for kubelets 1.33+; default from Istio 1.27)", "https://github.com/istio/istio/issues/48794"}
	srcSidecarKEP       = Source{"Kubernetes KEP-753 sidecar containers (alpha 1.28, beta 1.29, GA 1.33)", "https://github.com/kubernetes/enhancements/tree/master/keps/sig-node/753-sidecar-containers"}
	srcAnnotations      = Source{"Istio resource annotations (sidecar.istio.io/proxyCPU, proxyCPULimit, proxyMemory, proxyMemoryLimit)", "https://istio.io/latest/docs/reference/config/annotations/"}
	srcIssue35905       = Source{"istio/istio#35905: one resource annotation drops the others", "https://github.com/istio/istio/issues/35905"}
	srcHPAAlgorithm     = Source{"Kubernetes HPA algorithm (utilisation over the sum of the containers' requests)", "https://kubernetes.io/docs/tasks/run-application/horizontal-pod-autoscale/#algorithm-details"}
	srcHPAContainer     = Source{"Kubernetes HPA container resource metrics (beta 1.27, GA 1.30)", "https://kubernetes.io/docs/tasks/run-application/horizontal-pod-autoscale/#container-resource-metrics"}
	srcReplicaCalc      = Source{"kubernetes/kubernetes replica_calculator.go and metrics/utilization.go (\"missing request for cpu\")", "https://github.com/kubernetes/kubernetes/blob/master/pkg/controller/podautoscaler/replica_calculator.go"}
	srcNativeHPA        = Source{"kubernetes/kubernetes#120001: the HPA counts restartable init containers (native sidecars)", "https://github.com/kubernetes/kubernetes/pull/120001"}
	srcConcurrencyPR    = Source{"istio/istio#43865: concurrency from the CPU limit when unset (Istio 1.18)", "https://github.com/istio/istio/pull/43865"}
	srcAgentConfig      = Source{"istio/istio pilot/cmd/pilot-agent/config/config.go: concurrency = CPU limit rounded up; 0 = every core", "https://github.com/istio/istio/blob/master/pilot/cmd/pilot-agent/config/config.go"}
	srcRounding         = Source{"istio/istio#59628: Istio rounds the CPU limit up, Envoy down", "https://github.com/istio/istio/issues/59628"}
	srcProtocolSel      = Source{"Istio protocol selection (port names grpc*, appProtocol)", "https://istio.io/latest/docs/ops/configuration/traffic-management/protocol-selection/"}
	srcAppVersionLabels = Source{"Istio application requirements: app and version labels", "https://istio.io/latest/docs/ops/deployment/application-requirements/"}
	srcRetryCode        = Source{"istio/istio pilot/pkg/networking/core/route/retry/retry.go: the default retry policy", "https://github.com/istio/istio/blob/master/pilot/pkg/networking/core/route/retry/retry.go"}
	srcHTTPRetry        = Source{"Istio VirtualService HTTPRetry (attempts, retryOn, retryRemoteLocalities)", "https://istio.io/latest/docs/reference/config/networking/virtual-service/#HTTPRetry"}
	srcMeshRetry        = Source{"Istio MeshConfig defaultHttpRetryPolicy", "https://istio.io/latest/docs/reference/config/istio.mesh.v1alpha1/#MeshConfig"}
	srcLocalityLB       = Source{"Istio locality load balancing (needs outlier detection)", "https://istio.io/latest/docs/tasks/traffic-management/locality-load-balancing/"}
	srcOutlier          = Source{"Istio DestinationRule OutlierDetection (consecutive5xxErrors defaults to 5)", "https://istio.io/latest/docs/reference/config/networking/destination-rule/#OutlierDetection"}
	srcSidecarCRD       = Source{"Istio Sidecar resource (egress hosts)", "https://istio.io/latest/docs/reference/config/networking/sidecar/"}
	srcScalability      = Source{"Istio performance and scalability (proxy memory follows the configuration it holds)", "https://istio.io/latest/docs/ops/deployment/performance-and-scalability/"}
	srcEnvoyMemory      = Source{"envoyproxy/envoy#15231: memory per cluster", "https://github.com/envoyproxy/envoy/issues/15231"}
)

// catalogue lists every check in ID order. The run functions live with
// their category (lifecycle.go, resources.go, traffic.go, scope.go).
var catalogue = []*Check{
	{ID: "PS101", Name: "hold-application-until-proxy-starts", Category: Lifecycle, Severity: Warning,
		Title:   "holdApplicationUntilProxyStarts is off for the workload",
		Breaks:  "At every pod start the app's containers start together with istio-proxy: until the proxy has its configuration, the app's outbound connections are refused, so an app that calls out at start-up (config, database, warm-up) fails or crash-loops on every rollout and scale-up.",
		Sources: []Source{srcBlog, srcTalk, srcProxyConfig, srcInjectTemplate}, run: checkHoldApplication},
	{ID: "PS102", Name: "drain-fits-grace-period", Category: Lifecycle, Severity: Error,
		Title:      "the proxy's drain does not fit the pod's preStop and terminationGracePeriodSeconds",
		Breaks:     "At pod termination istio-proxy gets SIGTERM at once while the app first runs its preStop hook; the agent then exits after terminationDrainDuration (default 5s), or with EXIT_ON_ZERO_ACTIVE_CONNECTIONS after MINIMUM_DRAIN_DURATION (default 5s) once no connection is open. A proxy that can exit before the app's preStop ends cuts the app off while it is still meant to serve (503s on every scale-down and rollout); a drain longer than the grace period is cut by the kubelet's SIGKILL.",
		Escalation: "error when the proxy can exit before the app's preStop sleep ends; warning when terminationDrainDuration exceeds terminationGracePeriodSeconds",
		Sources:    []Source{srcBlog, srcTalk, srcAgentDrain, srcAgentOptions, srcPodTermination}, run: checkDrainFitsGrace},
	{ID: "PS103", Name: "prestop-within-grace-period", Category: Lifecycle, Severity: Error,
		Title:   "a container's preStop sleeps add up to the grace period or more",
		Breaks:  "The kubelet counts the preStop hook inside terminationGracePeriodSeconds (plus a one-off 2 s): a container still sleeping in preStop when it runs out is killed with SIGKILL without ever receiving SIGTERM, so in-flight requests are cut on every pod deletion.",
		Sources: []Source{srcTalk, srcPodTermination}, run: checkPreStopWithinGrace},
	{ID: "PS104", Name: "exit-on-zero-active-connections", Category: Lifecycle, Severity: Warning,
		Title:      "EXIT_ON_ZERO_ACTIVE_CONNECTIONS is not set",
		Breaks:     "Without it the proxy exits exactly terminationDrainDuration after SIGTERM, whatever the app is still doing: an app that takes longer than that to finish its in-flight work (within its grace period) loses its network half-way (the blog's 503s on HPA scale-down); a drain set as long as the grace period instead holds every pod for the whole period.",
		Escalation: "warning when terminationDrainDuration is shorter than the grace period; info when it already covers it (pods then always take the full drain to stop)",
		Sources:    []Source{srcBlog, srcAgentDrain, srcAgentOptions}, run: checkExitOnZero},
	{ID: "PS105", Name: "native-sidecars", Category: Lifecycle, Severity: Info,
		Title:   "native sidecars are not used where the cluster and Istio support them",
		Breaks:  "With istio-proxy as an ordinary container, start and stop order are races that PS101-PS104 patch around, init containers run without the mesh, and Jobs never complete while the proxy runs. As a native sidecar (a restartable init container) the kubelet starts it before the app and stops it after.",
		Needs:   "the Kubernetes and Istio versions (--k8s-version and --istio-version, an IstioOperator/values tag, or a live cluster)",
		Sources: []Source{srcNativeBlog, srcNativeAuto, srcSidecarKEP, srcInjectTemplate}, run: checkNativeSidecars},

	{ID: "PS201", Name: "partial-resource-annotations", Category: Resources, Severity: Warning,
		Title:   "some but not all four sidecar resource annotations are set",
		Breaks:  "Once any of sidecar.istio.io/proxyCPU, proxyCPULimit, proxyMemory, proxyMemoryLimit is set, the injector gives the proxy only the annotated resources and nothing from the mesh defaults: a missing limit means none (no CPU limit also means one Envoy worker per node core), a missing CPU request makes the HPA's Resource metric fail, a missing request with a limit defaults to the limit.",
		Sources: []Source{srcIssue35905, srcInjectTemplate, srcAnnotations}, run: checkPartialAnnotations},
	{ID: "PS202", Name: "container-request-under-hpa", Category: Resources, Severity: Error,
		Title:   "a container of a pod under a Utilization HPA has no request for the HPA's resource",
		Breaks:  "The HPA's Resource metric divides the pod's usage by the sum of every container's request (the sidecar's, and native sidecars' from Kubernetes 1.29): one container without it makes the metric fail (\"missing request for cpu\"), the HPA shows <unknown> and never scales.",
		Sources: []Source{srcReplicaCalc, srcHPAAlgorithm, srcNativeHPA, srcIssue35905}, run: checkRequestsUnderHPA},
	{ID: "PS203", Name: "concurrency-without-cpu-limit", Category: Resources, Severity: Warning,
		Title:   "Envoy concurrency is unset (or 0) and the sidecar has no CPU limit",
		Breaks:  "Since Istio 1.18 an unset concurrency comes from the CPU limit; with no limit the agent sees the node's CPUs, so the proxy starts one worker per node core (concurrency 0 does so always): memory grows per worker and cluster, and each worker keeps its own upstream pools.",
		Sources: []Source{srcConcurrencyPR, srcAgentConfig, srcTalk}, run: checkConcurrencyNoLimit},
	{ID: "PS204", Name: "concurrency-above-cpu-limit", Category: Resources, Severity: Warning,
		Title:   "Envoy concurrency is above the sidecar's CPU limit rounded up",
		Breaks:  "More busy workers than the CFS quota has cores exhaust the quota early in each 100 ms period and all stall until the next one: tail latency jumps in bursts while the average CPU looks fine.",
		Sources: []Source{srcConcurrencyPR, srcAgentConfig, srcRounding}, run: checkConcurrencyAboveLimit},
	{ID: "PS205", Name: "hpa-target-not-adjusted", Category: Resources, Severity: Warning,
		Title:   "an HPA on the Resource CPU metric whose target was not adjusted for the sidecar",
		Breaks:  "The Resource metric averages over all containers: with a sidecar in the pod the same percentage is reached at a different app CPU (1 CPU app at 70% plus a 100m sidecar scales at 670m of app CPU when the sidecar runs at its request), so the workload scales earlier or later than it was tuned for.",
		Sources: []Source{srcTalk, srcHPAAlgorithm, srcHPAContainer}, run: checkHPATarget},

	{ID: "PS301", Name: "headless-service-grpc", Category: Traffic, Severity: Warning,
		Title:   "a headless Service in front of a gRPC workload",
		Breaks:  "Clients of a headless Service connect to pod IPs they resolved themselves, so Envoy's per-request HTTP/2 load balancing does not apply and a client keeps its connection to a pod until it goes away: Mercari saw 5xx on every upstream rollout however well the servers drained.",
		Sources: []Source{srcTalk, srcProtocolSel}, run: checkHeadlessGRPC},
	{ID: "PS302", Name: "app-version-labels", Category: Traffic, Severity: Warning,
		Title:   "a workload's pods lack the app or version label",
		Breaks:  "Istio's telemetry (canonical service and revision) and DestinationRule subsets for traffic shifting key on these labels; without them metrics show the workload name and \"latest\", and subsets select nothing. Adding them later to a Deployment's selector is refused (the selector is immutable): add them to the pod template only.",
		Sources: []Source{srcTalk, srcAppVersionLabels, srcInjectTemplate}, run: checkAppVersionLabels},
	{ID: "PS303", Name: "default-retries-non-idempotent", Category: Traffic, Severity: Warning,
		Title:   "gRPC routes rely on Istio's default retry policy",
		Breaks:  "Without a retries block Istio retries every HTTP route twice on connect-failure, refused-stream, unavailable, cancelled and retriable-status-codes. The first two never reached the app; gRPC's unavailable and cancelled may come after the server ran the call, and every gRPC call is a POST: a non-idempotent call can run up to three times.",
		Sources: []Source{srcTalk, srcRetryCode, srcHTTPRetry, srcMeshRetry}, run: checkDefaultRetries},
	{ID: "PS304", Name: "retries-stay-in-locality", Category: Traffic, Severity: Info,
		Title:   "VirtualService retries without retryRemoteLocalities where locality load balancing is on",
		Breaks:  "Istio makes a retry prefer hosts not tried yet, but only within the same locality priority; with outlier detection set, locality load balancing puts the local zone first, so when it has one or few pods the retry goes back to the pod that just failed (the blog's retries to terminated pods). With consistent-hash load balancing retries always go back to the same host.",
		Sources: []Source{srcBlog, srcRetryCode, srcHTTPRetry, srcLocalityLB}, run: checkRetryRemoteLocalities},
	{ID: "PS305", Name: "outlier-detection", Category: Traffic, Severity: Warning,
		Title:   "a DestinationRule without outlier detection, or with consecutive5xxErrors of 5 or more",
		Breaks:  "Between a pod's termination and the xDS push that removes it, clients keep picking it; outlier detection is the only thing that stops them sooner. Without it every client retries the dead pod until the push arrives; at the default 5 consecutive errors each client fails 5 times per dead pod first (the blog's 503 pattern).",
		Sources: []Source{srcBlog, srcOutlier}, run: checkOutlierDetection},

	{ID: "PS401", Name: "namespace-default-sidecar", Category: Scope, Severity: Warning,
		Title:   "a namespace with injected workloads has no default Sidecar resource",
		Breaks:  "Without a Sidecar that applies to them, proxies hold every service of the mesh: proxy memory and istiod's push work grow with the whole mesh, pushes slow down, and proxies get OOM-killed as the mesh grows.",
		Sources: []Source{srcBlog, srcTalk, srcSidecarCRD, srcScalability}, run: checkDefaultSidecar},
	{ID: "PS402", Name: "config-scope-excess", Category: Scope, Severity: Warning,
		Title:   "a workload's proxy holds far more clusters than its traffic needs",
		Breaks:  "Every cluster a proxy holds costs memory in every replica (tens of KiB each, more per extra worker) and push work in istiod; a proxy scoped to the mesh holds thousands it never uses.",
		Needs:   "a cluster's inventory (the live source); telemetry narrows what the traffic needs",
		Sources: []Source{srcBlog, srcTalk, srcSidecarCRD, srcEnvoyMemory}, run: checkConfigScope},
}

// Catalogue returns the checks in ID order.
func Catalogue() []Check {
	out := make([]Check, len(catalogue))
	for i, c := range catalogue {
		out[i] = *c
	}
	return out
}

// Lookup finds a check by ID (PS101) or name (hold-application-until-proxy-starts).
func Lookup(idOrName string) (*Check, bool) {
	for _, c := range catalogue {
		if strings.EqualFold(c.ID, idOrName) || c.Name == idOrName {
			return c, true
		}
	}
	return nil, false
}

// IDs lists every check ID.
func IDs() []string {
	out := make([]string, 0, len(catalogue))
	for _, c := range catalogue {
		out = append(out, c.ID)
	}
	return slices.Clip(out)
}
