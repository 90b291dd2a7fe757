package kube

import (
	"context"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/version"
	"k8s.io/client-go/kubernetes"
)

// ContainerCPU is one container of the HPA's pods and its CPU request.
type ContainerCPU struct {
	Name string `json:"name"`
	// Role is app, sidecar or native-sidecar.
	Role              string `json:"role"`
	RequestMillicores int64  `json:"request_millicores"`
	HasRequest        bool   `json:"has_request"`
	// Source says where a sidecar's request comes from.
	Source string `json:"source,omitempty"`
}

// HPAView is an HPA with what its CPU target means for its pods.
type HPAView struct {
	HPA        *autoscalingv2.HorizontalPodAutoscaler
	Deployment *appsv1.Deployment
	Containers []ContainerCPU
	Sidecar    Sidecar
	HasSidecar bool
	// CPUMetric is the index in Spec.Metrics of the CPU Resource metric with
	// a utilisation target, or -1.
	CPUMetric int
	// ContainerMetric is the index of a CPU ContainerResource metric, or -1.
	ContainerMetric int
	ServerVersion   *version.Version
	ServerGitVer    string
}

// ReadHPA reads an HPA (autoscaling/v2), its target Deployment, the
// Deployment's containers and sidecar, and the server's version.
func ReadHPA(ctx context.Context, client kubernetes.Interface, ns, name string) (*HPAView, error) {
	hpa, err := client.AutoscalingV2().HorizontalPodAutoscalers(ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return nil, fmt.Errorf("reading HPA %s/%s: %w", ns, name, err)
	}
	ref := hpa.Spec.ScaleTargetRef
	if ref.Kind != "Deployment" {
		return nil, fmt.Errorf("HPA %s/%s scales a %s %q: only Deployments are supported", ns, name, ref.Kind, ref.Name)
	}
	d, err := client.AppsV1().Deployments(ns).Get(ctx, ref.Name, metav1.GetOptions{})
	if err != nil {
		return nil, fmt.Errorf("reading the HPA's target deployment %s/%s: %w", ns, ref.Name, err)
	}
	v := &HPAView{HPA: hpa, Deployment: d, CPUMetric: -1, ContainerMetric: -1}
	for i, m := range hpa.Spec.Metrics {
		switch {
		case m.Type == autoscalingv2.ResourceMetricSourceType && m.Resource != nil && m.Resource.Name == corev1.ResourceCPU &&
			m.Resource.Target.Type == autoscalingv2.UtilizationMetricType && m.Resource.Target.AverageUtilization != nil:
			v.CPUMetric = i
		case m.Type == autoscalingv2.ContainerResourceMetricSourceType && m.ContainerResource != nil && m.ContainerResource.Name == corev1.ResourceCPU:
			v.ContainerMetric = i
		}
	}
	sc, found, err := FindSidecar(ctx, client, d)
	if err != nil {
		return nil, err
	}
	v.Sidecar, v.HasSidecar = sc, found
	v.Containers = podContainers(d.Spec.Template.Spec, sc, found)
	info, err := client.Discovery().ServerVersion()
	if err != nil {
		return nil, fmt.Errorf("reading the server version (discovery): %w", err)
	}
	v.ServerGitVer = info.GitVersion
	if sv, err := version.ParseGeneric(info.GitVersion); err == nil {
		v.ServerVersion = sv
	}
	return v, nil
}

// podContainers lists the containers the HPA's Resource metric sums: the
// template's containers, its native sidecars (counted from Kubernetes 1.29),
// and the injected sidecar when the template does not show it.
func podContainers(spec corev1.PodSpec, sc Sidecar, found bool) []ContainerCPU {
	var out []ContainerCPU
	cpu := func(c corev1.Container) (int64, bool) {
		if q, ok := c.Resources.Requests[corev1.ResourceCPU]; ok {
			return q.MilliValue(), true
		}
		if q, ok := c.Resources.Limits[corev1.ResourceCPU]; ok { // a limit alone defaults the request
			return q.MilliValue(), true
		}
		return 0, false
	}
	sidecarShown := false
	sidecarEntry := func(name, role string) ContainerCPU {
		c := ContainerCPU{Name: name, Role: role, Source: sc.Baseline.Source}
		if r := sidecarRequest(sc.Baseline); r != nil {
			c.RequestMillicores, c.HasRequest = r.MilliValue(), true
		}
		return c
	}
	for _, c := range spec.InitContainers {
		if c.RestartPolicy == nil || *c.RestartPolicy != corev1.ContainerRestartPolicyAlways {
			continue
		}
		if c.Name == SidecarContainerName && found {
			out = append(out, sidecarEntry(c.Name, string(SidecarNative)))
			sidecarShown = true
			continue
		}
		m, ok := cpu(c)
		out = append(out, ContainerCPU{Name: c.Name, Role: "native-sidecar", RequestMillicores: m, HasRequest: ok})
	}
	for _, c := range spec.Containers {
		if c.Name == SidecarContainerName && found {
			out = append(out, sidecarEntry(c.Name, "sidecar"))
			sidecarShown = true
			continue
		}
		m, ok := cpu(c)
		out = append(out, ContainerCPU{Name: c.Name, Role: "app", RequestMillicores: m, HasRequest: ok})
	}
	if found && !sidecarShown {
		role := "sidecar"
		if sc.Kind == SidecarNative {
			role = string(SidecarNative)
		}
		out = append(out, sidecarEntry(SidecarContainerName, role))
	}
	return out
}

// sidecarRequest is the sidecar's effective CPU request: its request, or its
// limit when only a limit is set (Kubernetes defaults the request to it).
func sidecarRequest(b Baseline) *resource.Quantity {
	if b.CPURequest != nil {
		return b.CPURequest
	}
	if b.CPULimit != nil {
		return b.CPULimit
	}
	return nil
}
