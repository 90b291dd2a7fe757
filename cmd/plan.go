package cmd

import (
	"math"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/util/validation"
	k8sversion "k8s.io/apimachinery/pkg/util/version"

	"github.com/proxysizer/proxysizer/internal/quantity"
	"github.com/proxysizer/proxysizer/model"
	"github.com/proxysizer/proxysizer/profiles"
	"github.com/proxysizer/proxysizer/sizing"
)

func init() { register(newPlanCmd) }

// planFlags holds plan's raw flag values; toInput validates them.
type planFlags struct {
	rps, rpsPerPod                  float64
	replicas                        int
	requestsPerCall, outboundPerReq float64
	authzCalls, retryRatio          float64
	profile                         string
	clusters, endpoints             int
	concurrency                     int
	headroom, memoryLimitRatio      float64
	cpuLimit                        string
	appCPURequest, sidecarCPUReq    string
	hpaTarget                       int
	appCPUPerKRPS                   float64
	k8sVersion                      string
	deployment, appContainer        string
	minReplicas, maxReplicas        int
	output                          string
}

func newPlanCmd() *cobra.Command {
	var f planFlags
	c := &cobra.Command{
		Use:   "plan",
		Short: "Size a sidecar and recalculate the HPA target, without a cluster",
		Long: `plan sizes an Istio sidecar from the load a pod takes, how many requests each
inbound call causes through the sidecar, and a cost profile (published Istio
figures by default, or a profile fitted from a proxysizer sweep). With
--app-cpu-request and --hpa-target it also recalculates the HPA target so the
app keeps its original absolute CPU target once the sidecar shares the pod.`,
		Example: `  # The seed's example: 10000 RPS over 20 replicas, 2 requests per call
  proxysizer plan --rps 10000 --replicas 20 --requests-per-call 2 \
    --app-cpu-request 1 --hpa-target 70 --sidecar-cpu-request 100m

  # 3 outbound calls and an auth call per request, 10% of outbound retried
  proxysizer plan --rps-per-pod 400 --outbound-per-request 3 --authz-calls 1 \
    --retry-ratio 0.1 --k8s-version 1.30 --app-cpu-request 500m --hpa-target 80 -o manifests`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			in, output, err := f.toInput(c)
			if err != nil {
				return err
			}
			plan, err := sizing.Recommend(in)
			if err != nil {
				return err
			}
			planHPAInFlagWords(&plan, in)
			return writePlan(c.OutOrStdout(), output, plan, in)
		},
	}
	fl := c.Flags()
	fl.Float64Var(&f.rps, "rps", 0, "total inbound RPS at library level (with --replicas)")
	fl.IntVar(&f.replicas, "replicas", 0, "pods sharing --rps")
	fl.Float64Var(&f.rpsPerPod, "rps-per-pod", 0, "inbound RPS per pod at library level (instead of --rps/--replicas)")
	fl.Float64Var(&f.requestsPerCall, "requests-per-call", 1, "requests through the pod's sidecar per inbound call (the seed's \"service with N requests\")")
	fl.Float64Var(&f.outboundPerReq, "outbound-per-request", 0, "outbound calls the app makes per inbound request (k; requests per call = 1 + k)")
	fl.Float64Var(&f.authzCalls, "authz-calls", 0, "extra outbound authn/z calls per inbound request")
	fl.Float64Var(&f.retryRatio, "retry-ratio", 0, "share of outbound requests retried once (0..1)")
	fl.StringVar(&f.profile, "profile", profiles.DefaultName, "cost profile: a reference name (see `profiles list`) or a profile YAML file")
	fl.IntVar(&f.clusters, "clusters", sizing.DefaultClusters, "clusters (upstream service ports) in the proxy's configuration")
	fl.IntVar(&f.endpoints, "endpoints", sizing.DefaultEndpoints, "endpoints (upstream pod addresses) in the proxy's configuration")
	fl.IntVar(&f.concurrency, "concurrency", 0, "fix the Envoy worker count instead of choosing it")
	fl.Float64Var(&f.headroom, "headroom", sizing.DefaultHeadroom, "fraction added above the expected peak (0.15 = the VPA recommender's safety margin)")
	fl.StringVar(&f.cpuLimit, "cpu-limit", "auto", "sidecar CPU limit: auto (one core per worker), none, or a quantity such as 2 or 1500m")
	fl.Float64Var(&f.memoryLimitRatio, "memory-limit-ratio", sizing.DefaultMemoryLimitRatio, "memory limit as a multiple of the memory request (>= 1)")
	fl.StringVar(&f.appCPURequest, "app-cpu-request", "", "the app container's CPU request (Kubernetes quantity: 1, 500m, 1.5)")
	fl.IntVar(&f.hpaTarget, "hpa-target", 0, "the app's original HPA CPU utilisation target, percent (1..100)")
	fl.StringVar(&f.sidecarCPUReq, "sidecar-cpu-request", "", "the sidecar CPU request to assume in the HPA (default: the recommended request)")
	fl.Float64Var(&f.appCPUPerKRPS, "app-cpu-per-krps", 0, "app container CPU cores per 1000 inbound RPS (ties the sidecar's CPU to the app's)")
	fl.StringVar(&f.k8sVersion, "k8s-version", "", "the cluster's Kubernetes version, e.g. 1.29 (ContainerResource is on by default from 1.27)")
	fl.StringVar(&f.deployment, "deployment", "app", "Deployment (and HPA) name in the manifests")
	fl.StringVar(&f.appContainer, "app-container", "", "the app container's name for a ContainerResource metric (default: --deployment)")
	fl.IntVar(&f.minReplicas, "min-replicas", 1, "HPA minReplicas in the manifests")
	fl.IntVar(&f.maxReplicas, "max-replicas", 0, "HPA maxReplicas in the manifests (default: twice --replicas, or 10)")
	fl.StringVarP(&f.output, "output", "o", "table", "output format: table, json, yaml or manifests")
	return c
}

// toInput validates every flag and builds the sizing input. Each error names
// its flag and what was expected.
func (f *planFlags) toInput(c *cobra.Command) (sizing.Input, string, error) {
	set := c.Flags().Changed
	var in sizing.Input
	if !oneOf(f.output, "table", "json", "yaml", "manifests") {
		return in, "", flagError("output", "expected table, json, yaml or manifests, got %q", f.output)
	}
	if err := f.load(set, &in); err != nil {
		return in, "", err
	}
	if err := f.fanout(set, &in); err != nil {
		return in, "", err
	}
	if err := f.sizingKnobs(set, &in); err != nil {
		return in, "", err
	}
	if err := f.hpa(set, &in); err != nil {
		return in, "", err
	}
	return in, f.output, nil
}

func (f *planFlags) load(set func(string) bool, in *sizing.Input) error {
	switch {
	case set("rps-per-pod") && (set("rps") || set("replicas")):
		return flagError("rps-per-pod", "give either --rps-per-pod or --rps with --replicas, not both")
	case set("rps-per-pod"):
		if !positive(f.rpsPerPod) {
			return flagError("rps-per-pod", "expected a finite number > 0, got %v", f.rpsPerPod)
		}
		in.AppRPSPerPod = f.rpsPerPod
	case set("rps"):
		if !positive(f.rps) {
			return flagError("rps", "expected a finite number > 0, got %v", f.rps)
		}
		if !set("replicas") {
			return flagError("replicas", "required with --rps: the number of pods sharing it")
		}
		if f.replicas < 1 {
			return flagError("replicas", "expected an integer >= 1, got %d", f.replicas)
		}
		in.TotalRPS, in.Replicas = f.rps, f.replicas
		in.AppRPSPerPod = model.PerPod(f.rps, f.replicas)
	case set("replicas"):
		return flagError("rps", "required with --replicas: the total inbound RPS")
	default:
		return flagError("rps", "the load is required: give --rps with --replicas, or --rps-per-pod")
	}
	return nil
}

func (f *planFlags) fanout(set func(string) bool, in *sizing.Input) error {
	if set("requests-per-call") && set("outbound-per-request") {
		return flagError("outbound-per-request", "give either --requests-per-call N or --outbound-per-request k (N = 1 + k), not both")
	}
	if !finite(f.requestsPerCall) || f.requestsPerCall < 1 {
		return flagError("requests-per-call", "expected a number >= 1 (the inbound request itself counts), got %v", f.requestsPerCall)
	}
	if !nonNegative(f.outboundPerReq) {
		return flagError("outbound-per-request", "expected a finite number >= 0, got %v", f.outboundPerReq)
	}
	if !nonNegative(f.authzCalls) {
		return flagError("authz-calls", "expected a finite number >= 0, got %v", f.authzCalls)
	}
	if !nonNegative(f.retryRatio) || f.retryRatio > 1 {
		return flagError("retry-ratio", "expected a share of outbound requests between 0 and 1, got %v", f.retryRatio)
	}
	in.Fanout = model.FanoutFromRequestsPerCall(f.requestsPerCall)
	if set("outbound-per-request") {
		in.Fanout = model.Fanout{Outbound: f.outboundPerReq}
	}
	in.Fanout.Authz, in.Fanout.RetryRatio = f.authzCalls, f.retryRatio
	return nil
}

func (f *planFlags) sizingKnobs(set func(string) bool, in *sizing.Input) error {
	prof, err := profiles.Load(f.profile)
	if err != nil {
		return flagError("profile", "%v", err)
	}
	in.Profile = prof
	if f.clusters < 0 {
		return flagError("clusters", "expected an integer >= 0, got %d", f.clusters)
	}
	if f.endpoints < 0 {
		return flagError("endpoints", "expected an integer >= 0, got %d", f.endpoints)
	}
	in.Config = model.Config{Clusters: f.clusters, Endpoints: f.endpoints}
	in.ConfigDefault = !set("clusters") && !set("endpoints")
	if set("concurrency") && f.concurrency < 1 {
		return flagError("concurrency", "expected an integer >= 1 (Istio's 0 means one worker per node core, which cannot be sized), got %d", f.concurrency)
	}
	in.Concurrency = f.concurrency
	if !nonNegative(f.headroom) || f.headroom > 10 {
		return flagError("headroom", "expected a fraction between 0 and 10 (0.15 = 15%%), got %v", f.headroom)
	}
	in.Headroom = f.headroom
	if !finite(f.memoryLimitRatio) || f.memoryLimitRatio < 1 {
		return flagError("memory-limit-ratio", "expected a number >= 1 (the limit cannot be below the request), got %v", f.memoryLimitRatio)
	}
	in.MemoryLimitRatio = f.memoryLimitRatio
	in.CPULimit, err = parseCPULimit(f.cpuLimit)
	return err
}

func parseCPULimit(s string) (sizing.CPULimit, error) {
	switch s {
	case "auto":
		return sizing.CPULimit{Mode: sizing.CPULimitAuto}, nil
	case "none":
		return sizing.CPULimit{Mode: sizing.CPULimitNone}, nil
	}
	m, err := quantity.ParseMillicores(s)
	if err != nil {
		return sizing.CPULimit{}, flagError("cpu-limit", "expected auto, none, or a CPU quantity > 0 such as 2 or 1500m, got %q", s)
	}
	return sizing.CPULimit{Mode: sizing.CPULimitFixed, Millicores: m}, nil
}

func (f *planFlags) hpa(set func(string) bool, in *sizing.Input) error {
	wantHPA := set("app-cpu-request") || set("hpa-target")
	if !wantHPA {
		for _, only := range []string{"sidecar-cpu-request", "app-cpu-per-krps", "k8s-version", "app-container", "min-replicas", "max-replicas"} {
			if set(only) {
				return flagError(only, "only used for the HPA: give it with --app-cpu-request and --hpa-target")
			}
		}
		return nil
	}
	if !set("app-cpu-request") {
		return flagError("app-cpu-request", "required with --hpa-target: the app container's CPU request, e.g. 1 or 500m")
	}
	if !set("hpa-target") {
		return flagError("hpa-target", "required with --app-cpu-request: the app's original CPU utilisation target, percent")
	}
	appCPU, err := quantity.ParseMillicores(f.appCPURequest)
	if err != nil {
		return flagError("app-cpu-request", "expected a CPU quantity > 0 such as 1, 500m or 1.5, got %q", f.appCPURequest)
	}
	if f.hpaTarget < 1 || f.hpaTarget > 100 {
		return flagError("hpa-target", "expected a percentage within 1..100, got %d", f.hpaTarget)
	}
	h := &sizing.HPAInput{AppCPURequestMillicores: appCPU, TargetPercent: f.hpaTarget, Deployment: f.deployment, AppContainer: f.appContainer}
	if set("sidecar-cpu-request") {
		if h.SidecarCPURequestMillicores, err = quantity.ParseMillicores(f.sidecarCPUReq); err != nil {
			return flagError("sidecar-cpu-request", "expected a CPU quantity > 0 such as 100m, got %q", f.sidecarCPUReq)
		}
	}
	if set("app-cpu-per-krps") && !positive(f.appCPUPerKRPS) {
		return flagError("app-cpu-per-krps", "expected a finite number of cores > 0, got %v", f.appCPUPerKRPS)
	}
	h.AppCoresPerKRPS = f.appCPUPerKRPS
	if set("k8s-version") {
		v, err := k8sversion.ParseGeneric(strings.TrimPrefix(f.k8sVersion, "v"))
		if err != nil || v.Major() != 1 {
			return flagError("k8s-version", "expected a Kubernetes version such as 1.29 or v1.30.2, got %q", f.k8sVersion)
		}
		h.K8sVersion = v
	}
	if err := f.replicaBounds(h, in.Replicas); err != nil {
		return err
	}
	if !validName(h.Deployment) {
		return flagError("deployment", "expected a Kubernetes object name (lower-case letters, digits, '-', '.'), got %q", h.Deployment)
	}
	if h.AppContainer == "" {
		h.AppContainer = h.Deployment
	}
	in.HPA = h
	return nil
}

func (f *planFlags) replicaBounds(h *sizing.HPAInput, replicas int) error {
	if f.minReplicas < 1 {
		return flagError("min-replicas", "expected an integer >= 1, got %d", f.minReplicas)
	}
	maxReplicas := f.maxReplicas
	if maxReplicas == 0 {
		maxReplicas = max(10, 2*replicas, f.minReplicas)
	}
	if maxReplicas < f.minReplicas {
		return flagError("max-replicas", "expected an integer >= --min-replicas (%d), got %d", f.minReplicas, maxReplicas)
	}
	h.MinReplicas, h.MaxReplicas = int32(f.minReplicas), int32(maxReplicas)
	return nil
}

func finite(x float64) bool      { return !math.IsNaN(x) && !math.IsInf(x, 0) }
func positive(x float64) bool    { return finite(x) && x > 0 }
func nonNegative(x float64) bool { return finite(x) && x >= 0 }

func oneOf(s string, options ...string) bool { return slices.Contains(options, s) }

// validName accepts a DNS-1123 subdomain, what Deployments and HPAs are named.
func validName(s string) bool { return len(validation.IsDNS1123Subdomain(s)) == 0 }
