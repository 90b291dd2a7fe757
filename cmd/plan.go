package cmd

import (
	"github.com/spf13/cobra"

	"github.com/proxysizer/proxysizer/internal/input"
	"github.com/proxysizer/proxysizer/profiles"
	"github.com/proxysizer/proxysizer/sizing"
)

func init() { register(newPlanCmd) }

// planFormats are plan's output formats, table first (the default).
var planFormats = []string{"table", "json", "yaml", "manifests"}

func newPlanCmd() *cobra.Command {
	r := sizing.DefaultRequest()
	profile, output := profiles.DefaultName, planFormats[0]
	c := &cobra.Command{
		Use:   "plan",
		Short: "Size a sidecar and recalculate the HPA target, without a cluster",
		Long: `plan sizes an Istio sidecar from the load a pod takes, how many requests each
inbound call causes through the sidecar, and a cost profile (published Istio
figures by default, or a profile fitted from a proxysizer sweep; the figures
and their sources: docs/sources.md). With --app-cpu-request and --hpa-target
it also recalculates the HPA target so the app keeps its original absolute CPU
target once the sidecar shares the pod.`,
		Example: `  # The seed's example: 10000 RPS over 20 replicas, 2 requests per call
  proxysizer plan --rps 10000 --replicas 20 --requests-per-call 2 \
    --app-cpu-request 1 --hpa-target 70 --sidecar-cpu-request 100m

  # 3 outbound calls and an auth call per request, 10% of outbound retried
  proxysizer plan --rps-per-pod 400 --outbound-per-request 3 --authz-calls 1 \
    --retry-ratio 0.1 --k8s-version 1.30 --app-cpu-request 500m --hpa-target 80 -o manifests`,
		Args: cobra.NoArgs,
	}
	f := bindPlanFlags(c, &r, &profile)
	c.Flags().StringVarP(&output, "output", "o", output, "output format: table, json, yaml or manifests")
	c.RunE = func(c *cobra.Command, _ []string) error {
		if !oneOf(output, planFormats...) {
			return flagError("output", "expected table, json, yaml or manifests, got %q", output)
		}
		r.Given, r.Names = f.given(), planNames(f)
		var err error
		if r.Profile, err = profiles.Load(profile); err != nil {
			return flagError("profile", "%v", err)
		}
		in, err := r.Input()
		if err != nil {
			return err
		}
		plan, err := sizing.Recommend(in)
		if err != nil {
			return err
		}
		return writePlan(c.OutOrStdout(), output, plan, in)
	}
	return c
}

// planNames show plan's inputs as its flags, and the sweep as the command
// that measures a profile. fit's plan of its choice names them the same way:
// it is the plan that `proxysizer plan --profile` would make.
func planNames(f fieldFlags) input.Names {
	return f.names(input.Names{sizing.FieldSweep: "proxysizer sweep"})
}

// planFlagNames is planNames for callers that have no plan command at hand.
func planFlagNames() input.Names {
	r := sizing.DefaultRequest()
	var profile string
	return planNames(bindPlanFlags(&cobra.Command{}, &r, &profile))
}

func bindPlanFlags(c *cobra.Command, r *sizing.Request, profile *string) fieldFlags {
	f := newFieldFlags(c.Flags())
	f.bind(sizing.FieldTotalRPS, &r.TotalRPS, "rps", "total inbound RPS at library level (with --replicas)")
	f.bind(sizing.FieldReplicas, &r.Replicas, "replicas", "pods sharing --rps")
	f.bind(sizing.FieldRPSPerPod, &r.RPSPerPod, "rps-per-pod", "inbound RPS per pod at library level (instead of --rps/--replicas)")
	f.bind(sizing.FieldRequestsPerCall, &r.RequestsPerCall, "requests-per-call", "requests through the pod's sidecar per inbound call (the seed's \"service with N requests\")")
	f.bind(sizing.FieldOutboundPerRequest, &r.OutboundPerRequest, "outbound-per-request", "outbound calls the app makes per inbound request (k; requests per call = 1 + k)")
	f.bind(sizing.FieldAuthzCalls, &r.AuthzCalls, "authz-calls", "extra outbound authn/z calls per inbound request")
	f.bind(sizing.FieldRetryRatio, &r.RetryRatio, "retry-ratio", "share of outbound requests retried once (0..1)")
	f.bind(sizing.FieldProfile, profile, "profile", "cost profile: a reference name (see `profiles list`) or a profile YAML file")
	f.bind(sizing.FieldClusters, &r.Clusters, "clusters", "clusters (upstream service ports) in the proxy's configuration")
	f.bind(sizing.FieldEndpoints, &r.Endpoints, "endpoints", "endpoints (upstream pod addresses) in the proxy's configuration")
	f.bind(sizing.FieldConcurrency, &r.Concurrency, "concurrency", "fix the Envoy worker count instead of choosing it")
	f.bind(sizing.FieldHeadroom, &r.Headroom, "headroom", "fraction added above the expected peak (0.15 = the VPA recommender's safety margin)")
	f.bind(sizing.FieldCPULimit, &r.CPULimit, "cpu-limit", "sidecar CPU limit: auto (one core per worker), none, or a quantity such as 2 or 1500m")
	f.bind(sizing.FieldMemoryLimitRatio, &r.MemoryLimitRatio, "memory-limit-ratio", "memory limit as a multiple of the memory request (>= 1)")
	f.bind(sizing.FieldAppCPURequest, &r.AppCPURequest, "app-cpu-request", "the app container's CPU request (Kubernetes quantity: 1, 500m, 1.5)")
	f.bind(sizing.FieldHPATarget, &r.HPATarget, "hpa-target", "the app's original HPA CPU utilisation target, percent (1..100)")
	f.bind(sizing.FieldSidecarCPURequest, &r.SidecarCPURequest, "sidecar-cpu-request", "the sidecar CPU request to assume in the HPA (default: the recommended request)")
	f.bind(sizing.FieldAppCPUPerKRPS, &r.AppCPUPerKRPS, "app-cpu-per-krps", "app container CPU cores per 1000 inbound RPS (ties the sidecar's CPU to the app's)")
	f.bind(sizing.FieldK8sVersion, &r.K8sVersion, "k8s-version", "the cluster's Kubernetes version, e.g. 1.29 (ContainerResource is on by default from 1.27)")
	f.bind(sizing.FieldDeployment, &r.Deployment, "deployment", "Deployment (and HPA) name in the manifests")
	f.bind(sizing.FieldAppContainer, &r.AppContainer, "app-container", "the app container's name for a ContainerResource metric (default: --deployment)")
	f.bind(sizing.FieldMinReplicas, &r.MinReplicas, "min-replicas", "HPA minReplicas in the manifests")
	f.bind(sizing.FieldMaxReplicas, &r.MaxReplicas, "max-replicas", "HPA maxReplicas in the manifests (default: twice --replicas, or 10)")
	return f
}
