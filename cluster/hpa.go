package cluster

import (
	"context"
	"fmt"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/version"
	"k8s.io/client-go/kubernetes"

	"github.com/proxysizer/proxysizer/internal/input"
	"github.com/proxysizer/proxysizer/sizing"
)

// HPAView is an HPA with what its CPU target means for its pods.
type HPAView struct {
	HPA        *autoscalingv2.HorizontalPodAutoscaler
	Workload   Workload
	Containers []sizing.PodContainer
	Sidecar    Sidecar
	HasSidecar bool
	// CPUMetric is the index in Spec.Metrics of the CPU Resource metric with
	// a utilisation target, or -1.
	CPUMetric int
	// ContainerMetric is the index of a CPU ContainerResource metric, or -1.
	ContainerMetric int
	// ServerVersion is the API server's version (nil when discovery's
	// answer is not a version); ServerGitVersion is that answer.
	ServerVersion    *version.Version
	ServerGitVersion string
}

// ListHPAs lists the HPAs (autoscaling/v2) of namespace ns ("": every
// namespace), page by page.
func ListHPAs(ctx context.Context, client kubernetes.Interface, ns string) ([]autoscalingv2.HorizontalPodAutoscaler, error) {
	var out []autoscalingv2.HorizontalPodAutoscaler
	err := listPages(ctx, func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
		return client.AutoscalingV2().HorizontalPodAutoscalers(ns).List(ctx, o)
	}, func(obj runtime.Object) {
		out = append(out, *obj.(*autoscalingv2.HorizontalPodAutoscaler))
	})
	if err != nil {
		return nil, fmt.Errorf("listing HPAs%s: %w", inNamespace(ns), err)
	}
	return out, nil
}

// ReadHPA reads an HPA (autoscaling/v2), its target workload, the
// workload's containers and sidecar, and the server's version.
func ReadHPA(ctx context.Context, client kubernetes.Interface, ns, name string) (*HPAView, error) {
	hpa, err := client.AutoscalingV2().HorizontalPodAutoscalers(ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return nil, fmt.Errorf("reading HPA %s/%s: %w", ns, name, err)
	}
	ref := hpa.Spec.ScaleTargetRef
	if WorkloadKind(ref.Kind) != KindDeployment {
		return nil, fmt.Errorf("HPA %s/%s scales a %s %q: only Deployments are supported", ns, name, ref.Kind, ref.Name)
	}
	w, err := ReadWorkload(ctx, client, KindDeployment, ns, ref.Name)
	if err != nil {
		return nil, fmt.Errorf("the HPA's target: %w", err)
	}
	sv, err := ReadServerVersion(client)
	if err != nil {
		return nil, err
	}
	return DescribeHPA(ctx, client, hpa, w, sv)
}

// ServerVersion is the API server's version as discovery gives it, and
// parsed (nil when it is not a version).
type ServerVersion struct {
	GitVersion string
	Version    *version.Version
}

// ReadServerVersion asks discovery for the API server's version.
func ReadServerVersion(client kubernetes.Interface) (ServerVersion, error) {
	info, err := client.Discovery().ServerVersion()
	if err != nil {
		return ServerVersion{}, fmt.Errorf("reading the server version (discovery): %w", err)
	}
	sv := ServerVersion{GitVersion: info.GitVersion}
	if v, err := version.ParseGeneric(info.GitVersion); err == nil {
		sv.Version = v
	}
	return sv, nil
}

// DescribeHPA is ReadHPA for an HPA and its workload already read (from a
// listing of many): it finds the CPU metrics, the sidecar and the
// containers. Finding the sidecar may list the workload's pods.
func DescribeHPA(ctx context.Context, client kubernetes.Interface, hpa *autoscalingv2.HorizontalPodAutoscaler, w Workload, sv ServerVersion) (*HPAView, error) {
	v := &HPAView{HPA: hpa, Workload: w, ServerVersion: sv.Version, ServerGitVersion: sv.GitVersion}
	v.CPUMetric, v.ContainerMetric = cpuMetrics(hpa.Spec.Metrics)
	sc, found, err := FindSidecar(ctx, client, w)
	if err != nil {
		return nil, err
	}
	v.Sidecar, v.HasSidecar = sc, found
	v.Containers = PodContainers(w.Template.Spec, sc, found)
	return v, nil
}

// cpuMetrics finds the CPU Resource metric with a utilisation target and a
// CPU ContainerResource metric (-1: none).
func cpuMetrics(metrics []autoscalingv2.MetricSpec) (resource, container int) {
	resource, container = -1, -1
	for i, m := range metrics {
		switch {
		case m.Type == autoscalingv2.ResourceMetricSourceType && m.Resource != nil && m.Resource.Name == corev1.ResourceCPU &&
			m.Resource.Target.Type == autoscalingv2.UtilizationMetricType && m.Resource.Target.AverageUtilization != nil:
			resource = i
		case m.Type == autoscalingv2.ContainerResourceMetricSourceType && m.ContainerResource != nil && m.ContainerResource.Name == corev1.ResourceCPU:
			container = i
		}
	}
	return resource, container
}

// PodContainers lists the containers the HPA's Resource metric sums: the
// template's containers, its native sidecars (counted from Kubernetes 1.29),
// and the injected sidecar when the template does not show it.
func PodContainers(spec corev1.PodSpec, sc Sidecar, found bool) []sizing.PodContainer {
	var out []sizing.PodContainer
	sidecarShown := false
	sidecarEntry := func(name string, role sizing.ContainerRole) sizing.PodContainer {
		c := sizing.PodContainer{Name: name, Role: role, Proxy: true,
			Source: sc.Resources.Source}
		if r := sc.Resources.EffectiveCPURequest(); r != nil {
			c.RequestMillicores, c.HasRequest = r.MilliValue(), true
		}
		sidecarShown = true
		return c
	}
	for _, c := range spec.InitContainers {
		if !isNativeSidecar(c) {
			continue
		}
		if c.Name == SidecarContainerName && found {
			out = append(out, sidecarEntry(c.Name, sizing.RoleNativeSidecar))
			continue
		}
		out = append(out, containerCPU(c, sizing.RoleNativeSidecar))
	}
	for _, c := range spec.Containers {
		if c.Name == SidecarContainerName && found {
			out = append(out, sidecarEntry(c.Name, sizing.RoleSidecar))
			continue
		}
		out = append(out, containerCPU(c, sizing.RoleApp))
	}
	if found && !sidecarShown {
		role := sizing.RoleSidecar
		if sc.Kind == SidecarNative {
			role = sizing.RoleNativeSidecar
		}
		out = append(out, sidecarEntry(SidecarContainerName, role))
	}
	return out
}

// containerCPU is a container's CPU request, or its limit when only a limit
// is set (Kubernetes defaults the request to it).
func containerCPU(c corev1.Container, role sizing.ContainerRole) sizing.PodContainer {
	out := sizing.PodContainer{Name: c.Name, Role: role}
	if q, ok := c.Resources.Requests[corev1.ResourceCPU]; ok {
		out.RequestMillicores, out.HasRequest = q.MilliValue(), true
	} else if q, ok := c.Resources.Limits[corev1.ResourceCPU]; ok {
		out.RequestMillicores, out.HasRequest = q.MilliValue(), true
	}
	return out
}

// HPAOptions are what the caller knows better than the cluster.
type HPAOptions struct {
	// SidecarCPUAtTargetMillicores is the sidecar's measured CPU when the
	// app runs at its target (0: its request is assumed).
	SidecarCPUAtTargetMillicores float64
	// SidecarCPURequestMillicores is the sidecar's request when the cluster
	// does not show it (0: the cluster's).
	SidecarCPURequestMillicores int64
	// AppContainer is the container a corrected HPA targets (default: the
	// first that is not the sidecar).
	AppContainer string
	// Names shows the recalculation's inputs (sizing.FieldSidecarCPURequest,
	// sizing.FieldSidecarCPUUsage) in the caller's words: its remarks ask
	// for those the caller names.
	Names input.Names
}

// HPAReport is a live HPA recalculated for the sidecar in its pods: each
// container's absolute target now, where the app scales now, plan's HPA
// arithmetic on these figures, and the corrected HPA.
type HPAReport struct {
	Namespace      string                   `json:"namespace"`
	HPA            string                   `json:"hpa"`
	Deployment     string                   `json:"deployment"`
	ServerVersion  string                   `json:"server_version"`
	Metric         string                   `json:"current_metric"`
	TargetPercent  int                      `json:"target_percent"`
	Containers     []sizing.ContainerTarget `json:"containers"`
	PodRequests    int64                    `json:"pod_cpu_requests_millicores"`
	Sidecar        string                   `json:"sidecar"`
	SidecarUsage   float64                  `json:"sidecar_cpu_usage_millicores"`
	SidecarBasis   string                   `json:"sidecar_cpu_usage_basis"`
	AppScalesNowAt float64                  `json:"app_cpu_at_target_now_millicores"`
	// Recalculation is plan's HPA arithmetic on these figures; nil when
	// the HPA needs none (it already targets the app container alone).
	Recalculation *sizing.HPA                            `json:"recalculation,omitempty"`
	Corrected     *autoscalingv2.HorizontalPodAutoscaler `json:"-"`
	Assumptions   []string                               `json:"assumptions"`
	Warnings      []string                               `json:"warnings"`
}

// RecalculateHPA applies the HPA core to a live HPA: the target is taken as
// the one chosen for the app alone, before the sidecar shared the pod. An
// HPA on the app container alone (ContainerResource) needs nothing; one
// without a CPU utilisation metric is an error.
func RecalculateHPA(v *HPAView, o HPAOptions) (*HPAReport, error) {
	r := &HPAReport{Namespace: v.HPA.Namespace, HPA: v.HPA.Name, Deployment: v.Workload.Name,
		ServerVersion: v.ServerGitVersion, Sidecar: string(SidecarNone)}
	if v.HasSidecar {
		r.Sidecar = fmt.Sprintf("%s (%s)", v.Sidecar.Kind, v.Sidecar.Resources.Source)
	}
	in := sizing.LiveHPAInput{Workload: v.Workload.String(), Containers: v.Containers, SidecarFound: v.HasSidecar,
		SidecarCPURequestMillicores: o.SidecarCPURequestMillicores, SidecarCPUAtTargetMillicores: o.SidecarCPUAtTargetMillicores,
		AppContainer: o.AppContainer, K8sVersion: v.ServerVersion, Names: o.Names}
	switch {
	case v.CPUMetric >= 0:
		in.TargetPercent = int(*v.HPA.Spec.Metrics[v.CPUMetric].Resource.Target.AverageUtilization)
		r.Metric = fmt.Sprintf("Resource cpu at %d%%", in.TargetPercent)
	case v.ContainerMetric >= 0:
		cr := v.HPA.Spec.Metrics[v.ContainerMetric].ContainerResource
		if cr.Target.AverageUtilization != nil {
			in.TargetPercent = int(*cr.Target.AverageUtilization)
		}
		in.TargetContainer = cr.Container
		r.Metric = fmt.Sprintf("ContainerResource cpu on container %q", cr.Container)
	default:
		return nil, fmt.Errorf("HPA %s/%s has no CPU utilisation metric (Resource cpu with averageUtilization): nothing to recalculate", v.HPA.Namespace, v.HPA.Name)
	}
	if in.AppContainer == "" {
		in.AppContainer = firstAppContainer(v.Containers, v.Workload.Name)
	}
	live, err := sizing.RecalculateLiveHPA(in)
	if err != nil {
		return nil, err
	}
	r.TargetPercent, r.Containers = in.TargetPercent, live.Containers
	r.PodRequests, r.AppScalesNowAt = live.PodRequestsMillicores, live.AppCPUAtTargetNowMillicores
	r.SidecarUsage, r.SidecarBasis = live.SidecarCPUAtTargetMillicores, live.SidecarCPUAtTargetBasis
	r.Recalculation, r.Assumptions, r.Warnings = live.Recalculation, live.Assumptions, live.Warnings
	if live.Recalculation != nil {
		r.Corrected = correctedHPA(v.HPA, v.CPUMetric, live.Recalculation.Metric)
	}
	return r, nil
}

// firstAppContainer is the first container that is not the sidecar, else
// the workload's name.
func firstAppContainer(cs []sizing.PodContainer, fallback string) string {
	for _, c := range cs {
		if c.Role == sizing.RoleApp && !c.Proxy {
			return c.Name
		}
	}
	return fallback
}

// correctedHPA is the HPA with metric in place of its CPU metric, stripped
// of what the server owns (status, resourceVersion, uid,
// last-applied-configuration) so that it can be applied.
func correctedHPA(hpa *autoscalingv2.HorizontalPodAutoscaler, cpuMetric int, metric autoscalingv2.MetricSpec) *autoscalingv2.HorizontalPodAutoscaler {
	out := hpa.DeepCopy()
	out.TypeMeta = metav1.TypeMeta{APIVersion: "autoscaling/v2", Kind: "HorizontalPodAutoscaler"}
	out.ObjectMeta = metav1.ObjectMeta{Name: hpa.Name, Namespace: hpa.Namespace, Labels: hpa.Labels, Annotations: withoutLastApplied(hpa.Annotations)}
	out.Status = autoscalingv2.HorizontalPodAutoscalerStatus{}
	out.Spec.Metrics[cpuMetric] = metric
	return out
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
