package cmd

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/proxysizer/proxysizer/driver/kube"
	"github.com/proxysizer/proxysizer/internal/quantity"
	"github.com/proxysizer/proxysizer/sizing"
)

func init() { register(newHPACmd) }

// hpaContainer is one container of the HPA's pods and its share of the target.
type hpaContainer struct {
	kube.ContainerCPU
	// AbsoluteTargetMillicores is request x target: the CPU at which this
	// container reads the HPA's target when every container runs at the
	// same utilisation.
	AbsoluteTargetMillicores float64 `json:"absolute_target_millicores"`
}

// hpaReport is `proxysizer hpa`'s output.
type hpaReport struct {
	Namespace      string         `json:"namespace"`
	HPA            string         `json:"hpa"`
	Deployment     string         `json:"deployment"`
	ServerVersion  string         `json:"server_version"`
	Metric         string         `json:"current_metric"`
	TargetPercent  int            `json:"target_percent"`
	Containers     []hpaContainer `json:"containers"`
	PodRequests    int64          `json:"pod_cpu_requests_millicores"`
	Sidecar        string         `json:"sidecar"`
	SidecarUsage   float64        `json:"sidecar_cpu_usage_millicores"`
	SidecarBasis   string         `json:"sidecar_cpu_usage_basis"`
	AppScalesNowAt float64        `json:"app_cpu_at_target_now_millicores"`
	// Recalculation is plan's HPA arithmetic on these figures; nil when
	// the HPA needs none (it already targets the app container alone).
	Recalculation *sizing.HPA                            `json:"recalculation,omitempty"`
	Corrected     *autoscalingv2.HorizontalPodAutoscaler `json:"-"`
	Assumptions   []string                               `json:"assumptions"`
	Warnings      []string                               `json:"warnings"`
}

type hpaFlags struct {
	kube         kubeFlags
	sidecarUsage string
	sidecarReq   string
	appContainer string
	output       string
}

func newHPACmd() *cobra.Command {
	var f hpaFlags
	c := &cobra.Command{
		Use:   "hpa NAME",
		Short: "Recalculate a live HPA's CPU target for the sidecar in its pods",
		Long: `hpa reads a HorizontalPodAutoscaler and its target Deployment: the
containers' CPU requests and the Istio sidecar's (from the pod-template
annotations, an istio-proxy container, a native sidecar init container, or
a running pod's injected container). It prints each container's absolute
CPU target now, the request-weighted and usage-aware targets that keep the
app's original absolute target (the rules of ` + "`plan`" + `), and with -o manifests
the corrected HPA: a ContainerResource metric on the app container where the
server (discovery) is 1.27 or newer, else the Resource metric at the
adjusted target. The HPA's target is taken as the one chosen for the app
alone, before the sidecar shared the pod.`,
		Example: `  proxysizer hpa -n shop web
  proxysizer hpa -n shop web --sidecar-cpu-usage 180m -o json
  proxysizer hpa -n shop web -o manifests | kubectl apply -f -`,
		Args: cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			name := args[0]
			if len(validation.IsDNS1123Subdomain(name)) > 0 {
				return badInput("HPA name: expected a Kubernetes object name, got %q", name)
			}
			if err := f.validate(c); err != nil {
				return err
			}
			client, _, ns, err := f.kube.clients()
			if err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(c.Context(), f.kube.timeout)
			defer cancel()
			v, err := kube.ReadHPA(ctx, client, ns, name)
			if err != nil {
				return err
			}
			r, err := f.report(v)
			if err != nil {
				return err
			}
			return writeHPAReport(c.OutOrStdout(), f.output, r)
		},
	}
	fl := c.Flags()
	addKubeFlags(fl, &f.kube, 30*time.Second, "how long the reads may take")
	fl.StringVar(&f.sidecarUsage, "sidecar-cpu-usage", "", "the sidecar's CPU when the app is at its target, e.g. 180m from a sweep or a dashboard (default: its request, as an assumption)")
	fl.StringVar(&f.sidecarReq, "sidecar-cpu-request", "", "the sidecar's CPU request, when the cluster does not show it (no annotation, no running pod)")
	fl.StringVar(&f.appContainer, "app-container", "", "the app container for a ContainerResource metric (default: the first container that is not the sidecar)")
	fl.StringVarP(&f.output, "output", "o", "table", "output format: table, json, yaml or manifests (the corrected HPA)")
	return c
}

func (f *hpaFlags) validate(c *cobra.Command) error {
	if err := f.kube.validate(); err != nil {
		return err
	}
	if !oneOf(f.output, "table", "json", "yaml", "manifests") {
		return flagError("output", "expected table, json, yaml or manifests, got %q", f.output)
	}
	set := c.Flags().Changed
	if set("sidecar-cpu-usage") {
		if _, err := quantity.ParseMillicores(f.sidecarUsage); err != nil {
			return flagError("sidecar-cpu-usage", "expected a CPU quantity > 0 such as 180m, got %q", f.sidecarUsage)
		}
	}
	if set("sidecar-cpu-request") {
		if _, err := quantity.ParseMillicores(f.sidecarReq); err != nil {
			return flagError("sidecar-cpu-request", "expected a CPU quantity > 0 such as 100m, got %q", f.sidecarReq)
		}
	}
	if set("app-container") && len(validation.IsDNS1123Label(f.appContainer)) > 0 {
		return flagError("app-container", "expected a container name, got %q", f.appContainer)
	}
	return nil
}

func (f *hpaFlags) report(v *kube.HPAView) (*hpaReport, error) {
	r := &hpaReport{
		Namespace: v.HPA.Namespace, HPA: v.HPA.Name, Deployment: v.Deployment.Name,
		ServerVersion: v.ServerGitVer, Sidecar: string(kube.SidecarNone),
		Assumptions: []string{}, Warnings: []string{},
	}
	if v.HasSidecar {
		r.Sidecar = fmt.Sprintf("%s (%s)", v.Sidecar.Kind, v.Sidecar.Baseline.Source)
	}
	if v.CPUMetric < 0 {
		if v.ContainerMetric >= 0 {
			cr := v.HPA.Spec.Metrics[v.ContainerMetric].ContainerResource
			r.Metric = fmt.Sprintf("ContainerResource cpu on container %q", cr.Container)
			if cr.Target.AverageUtilization != nil {
				r.TargetPercent = int(*cr.Target.AverageUtilization)
			}
			r.Warnings = append(r.Warnings, fmt.Sprintf("the HPA already targets container %q alone: the sidecar does not move its target, nothing to correct", cr.Container))
			r.Containers = containerTargets(v.Containers, r.TargetPercent)
			return r, nil
		}
		return nil, fmt.Errorf("HPA %s/%s has no CPU utilisation metric (Resource cpu with averageUtilization): nothing to recalculate", v.HPA.Namespace, v.HPA.Name)
	}
	target := int(*v.HPA.Spec.Metrics[v.CPUMetric].Resource.Target.AverageUtilization)
	r.TargetPercent = target
	r.Metric = fmt.Sprintf("Resource cpu at %d%%", target)
	r.Containers = containerTargets(v.Containers, target)

	var app, sidecar int64
	appContainer := f.appContainer
	sidecarSource := "none found"
	for _, c := range v.Containers {
		if !c.HasRequest {
			r.Warnings = append(r.Warnings, fmt.Sprintf("container %q has no CPU request: the Resource metric fails (\"missing request for cpu\") and the HPA shows <unknown>", c.Name))
		}
		if c.Name == kube.SidecarContainerName && v.HasSidecar {
			sidecar, sidecarSource = c.RequestMillicores, c.Source
			continue
		}
		app += c.RequestMillicores
		if appContainer == "" && c.Role == "app" {
			appContainer = c.Name
		}
	}
	if f.sidecarReq != "" {
		sidecar, _ = quantity.ParseMillicores(f.sidecarReq)
		sidecarSource = "--sidecar-cpu-request"
		if !v.HasSidecar {
			r.Containers = append(r.Containers, hpaContainer{ContainerCPU: kube.ContainerCPU{Name: kube.SidecarContainerName, Role: "sidecar",
				RequestMillicores: sidecar, HasRequest: true, Source: sidecarSource}, AbsoluteTargetMillicores: float64(sidecar) * float64(target) / 100})
		}
	} else if !v.HasSidecar {
		r.Assumptions = append(r.Assumptions, "no sidecar found (no sidecar.istio.io resource annotations, no istio-proxy container in the template or a running pod): the pod's requests are the app's; pass --sidecar-cpu-request if a sidecar is injected")
	}
	if app <= 0 {
		return nil, fmt.Errorf("the app containers of deployment %s/%s have no CPU request: the HPA's Resource metric cannot work", v.Deployment.Namespace, v.Deployment.Name)
	}
	if appContainer == "" {
		appContainer = v.Deployment.Name
	}
	r.PodRequests = app + sidecar
	usage := float64(sidecar)
	basis := "assumed equal to the sidecar's CPU request; pass --sidecar-cpu-usage with a measured figure"
	if f.sidecarUsage != "" {
		m, _ := quantity.ParseMillicores(f.sidecarUsage)
		usage, basis = float64(m), "--sidecar-cpu-usage"
	} else if sidecar > 0 {
		r.Assumptions = append(r.Assumptions, "the sidecar's CPU at the app's target is taken as its request: pass --sidecar-cpu-usage (e.g. from `proxysizer sweep` or container_cpu_usage_seconds_total{container=\"istio-proxy\"}) for the usage-aware target")
	}
	r.SidecarUsage, r.SidecarBasis = usage, basis
	r.AppScalesNowAt = float64(target)/100*float64(app+sidecar) - usage
	r.Assumptions = append(r.Assumptions, fmt.Sprintf("the HPA's %d%% was chosen for the app alone: its original absolute target is %sm, %d%% of the app's %s CPU request", target, num(float64(app)*float64(target)/100), target, quantity.Millicores(app)))

	h, err := sizing.RecalculateHPA(sizing.LiveHPAInput{
		AppCPURequestMillicores: app, SidecarCPURequestMillicores: sidecar, SidecarCPURequestSource: sidecarSource,
		SidecarCPUAtTargetMillicores: usage, SidecarCPUAtTargetBasis: basis,
		TargetPercent: target, AppContainer: appContainer, K8sVersion: v.ServerVersion,
	})
	if err != nil {
		return nil, err
	}
	r.Recalculation = &h
	corrected := v.HPA.DeepCopy()
	corrected.TypeMeta = metav1.TypeMeta{APIVersion: "autoscaling/v2", Kind: "HorizontalPodAutoscaler"}
	corrected.ObjectMeta = metav1.ObjectMeta{Name: v.HPA.Name, Namespace: v.HPA.Namespace, Labels: v.HPA.Labels, Annotations: withoutLastApplied(v.HPA.Annotations)}
	corrected.Status = autoscalingv2.HorizontalPodAutoscalerStatus{}
	corrected.Spec.Metrics[v.CPUMetric] = h.Metric
	r.Corrected = corrected
	return r, nil
}

func withoutLastApplied(a map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range a {
		if k != "kubectl.kubernetes.io/last-applied-configuration" {
			out[k] = v
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

func containerTargets(cs []kube.ContainerCPU, target int) []hpaContainer {
	out := make([]hpaContainer, 0, len(cs))
	for _, c := range cs {
		out = append(out, hpaContainer{ContainerCPU: c, AbsoluteTargetMillicores: float64(c.RequestMillicores) * float64(target) / 100})
	}
	return out
}

func writeHPAReport(w io.Writer, format string, r *hpaReport) error {
	switch format {
	case "json":
		return writeJSON(w, r)
	case "yaml":
		return writeYAML(w, r)
	case "manifests":
		if r.Corrected == nil {
			fmt.Fprintf(w, "# HPA %s/%s: nothing to correct (%s)\n", r.Namespace, r.HPA, r.Metric)
			return nil
		}
		data, err := sizing.CleanObject(r.Corrected)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "# HorizontalPodAutoscaler %s/%s corrected for its sidecar: %s\n", r.Namespace, r.HPA, r.Recalculation.MetricReason)
		_, err = w.Write(data)
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "HPA %s/%s -> deployment %s (server %s)\n", r.Namespace, r.HPA, r.Deployment, r.ServerVersion)
	fmt.Fprintf(tw, "  current metric\t%s\n", r.Metric)
	fmt.Fprintf(tw, "  sidecar\t%s\n\n", r.Sidecar)
	fmt.Fprintln(tw, "CONTAINER\tROLE\tCPU REQUEST\tABSOLUTE TARGET NOW\tSOURCE")
	for _, c := range r.Containers {
		req := "none"
		if c.HasRequest {
			req = quantity.Millicores(c.RequestMillicores)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%sm\t%s\n", c.Name, c.Role, req, num(c.AbsoluteTargetMillicores), c.Source)
	}
	if r.Recalculation != nil {
		fmt.Fprintf(tw, "\n  pod requests\t%s\tthe Resource metric divides the pod's CPU by this\n", quantity.Millicores(r.PodRequests))
		fmt.Fprintf(tw, "  app scales now at\t%sm\t%d%% of %s minus the sidecar's %sm\n", num(r.AppScalesNowAt), r.TargetPercent, quantity.Millicores(r.PodRequests), num(r.SidecarUsage))
		fmt.Fprintf(tw, "  sidecar CPU at target\t%sm\t%s\n", num(r.SidecarUsage), r.SidecarBasis)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w)
	if r.Recalculation != nil {
		hw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		writeHPATable(hw, r.Recalculation)
		if err := hw.Flush(); err != nil {
			return err
		}
	}
	list(w, "ASSUMPTIONS", r.Assumptions)
	list(w, "WARNINGS", r.Warnings)
	return nil
}
