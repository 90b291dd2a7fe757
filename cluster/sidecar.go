package cluster

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/client-go/kubernetes"

	"github.com/proxysizer/proxysizer/sizing"
)

// SidecarContainerName is the container Istio injects.
const SidecarContainerName = "istio-proxy"

// SidecarKind says how the sidecar shows in the pod.
type SidecarKind string

const (
	SidecarNone        SidecarKind = "none"
	SidecarAnnotations SidecarKind = "annotations"    // pod-template annotations only (injected at admission)
	SidecarContainer   SidecarKind = "container"      // an istio-proxy container
	SidecarNative      SidecarKind = "native-sidecar" // an istio-proxy init container with restartPolicy Always
)

// Istio's default sidecar resources (global.proxy.resources, Istio 1.8 to 1.30).
var (
	IstioDefaultCPURequest    = resource.MustParse("100m")
	IstioDefaultCPULimit      = resource.MustParse("2000m")
	IstioDefaultMemoryRequest = resource.MustParse("128Mi")
	IstioDefaultMemoryLimit   = resource.MustParse("1024Mi")
)

// SidecarResources are a sidecar's effective resources. A nil quantity is
// unset. Source says where the figures come from.
type SidecarResources struct {
	CPURequest    *resource.Quantity `json:"cpu_request,omitempty"`
	CPULimit      *resource.Quantity `json:"cpu_limit,omitempty"`
	MemoryRequest *resource.Quantity `json:"memory_request,omitempty"`
	MemoryLimit   *resource.Quantity `json:"memory_limit,omitempty"`
	Source        string             `json:"source"`
}

// EffectiveCPURequest is the CPU request the scheduler and the HPA see: the
// request, or the limit when only a limit is set (Kubernetes defaults the
// request to it); nil when neither is.
func (r SidecarResources) EffectiveCPURequest() *resource.Quantity {
	if r.CPURequest != nil {
		return r.CPURequest
	}
	return r.CPULimit
}

// IstioDefaultResources is the mesh default, used when nothing better is
// known; why says so in Source.
func IstioDefaultResources(why string) SidecarResources {
	q := func(v resource.Quantity) *resource.Quantity { return &v }
	return SidecarResources{
		CPURequest: q(IstioDefaultCPURequest), CPULimit: q(IstioDefaultCPULimit),
		MemoryRequest: q(IstioDefaultMemoryRequest), MemoryLimit: q(IstioDefaultMemoryLimit),
		Source: "Istio's default sidecar resources (" + why + ")",
	}
}

// Sidecar is the sidecar found for a workload.
type Sidecar struct {
	Kind      SidecarKind      `json:"kind"`
	Resources SidecarResources `json:"resources"`
	// Image is the proxy's image where a container shows it ("" when only
	// annotations do).
	Image string `json:"image,omitempty"`
}

// ResourcesFromAnnotations reads the resource annotations. ok is false when
// none is set: the mesh defaults (or the injected container) then apply.
func ResourcesFromAnnotations(a map[string]string) (SidecarResources, bool, error) {
	if !hasResourceAnnotation(a) {
		return SidecarResources{}, false, nil
	}
	r := SidecarResources{Source: "pod-template annotations"}
	for key, dst := range map[string]**resource.Quantity{
		sizing.AnnotationProxyCPU: &r.CPURequest, sizing.AnnotationProxyCPULimit: &r.CPULimit,
		sizing.AnnotationProxyMemory: &r.MemoryRequest, sizing.AnnotationProxyMemoryLimit: &r.MemoryLimit,
	} {
		v, ok := a[key]
		if !ok {
			continue
		}
		q, err := resource.ParseQuantity(v)
		if err != nil {
			return SidecarResources{}, false, fmt.Errorf("annotation %s=%q is not a quantity: %w", key, v, err)
		}
		*dst = &q
	}
	return r, true, nil
}

// containerResources reads a container's resources.
func containerResources(c corev1.Container, source string) SidecarResources {
	get := func(l corev1.ResourceList, name corev1.ResourceName) *resource.Quantity {
		if q, ok := l[name]; ok {
			return &q
		}
		return nil
	}
	return SidecarResources{
		CPURequest:    get(c.Resources.Requests, corev1.ResourceCPU),
		CPULimit:      get(c.Resources.Limits, corev1.ResourceCPU),
		MemoryRequest: get(c.Resources.Requests, corev1.ResourceMemory),
		MemoryLimit:   get(c.Resources.Limits, corev1.ResourceMemory),
		Source:        source,
	}
}

// isNativeSidecar says whether an init container runs beside the app for
// the pod's life (restartPolicy Always, Kubernetes 1.28+).
func isNativeSidecar(c corev1.Container) bool {
	return c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways
}

// SidecarInPodSpec finds an istio-proxy container: a regular one (injected,
// or manually with istioctl kube-inject) or a native sidecar.
func SidecarInPodSpec(spec corev1.PodSpec, where string) (Sidecar, bool) {
	for _, c := range spec.Containers {
		if c.Name == SidecarContainerName {
			return Sidecar{Kind: SidecarContainer, Image: c.Image,
				Resources: containerResources(c, "container "+SidecarContainerName+" in "+where)}, true
		}
	}
	for _, c := range spec.InitContainers {
		if c.Name == SidecarContainerName && isNativeSidecar(c) {
			return Sidecar{Kind: SidecarNative, Image: c.Image,
				Resources: containerResources(c, "native sidecar init container "+SidecarContainerName+" in "+where)}, true
		}
	}
	return Sidecar{}, false
}

// FindSidecar finds a workload's sidecar and its resources, in order: the
// pod-template annotations, an istio-proxy container in the template
// (regular or native), then one in a running pod of the workload (the
// injected container). Found is false when none of these has one.
func FindSidecar(ctx context.Context, client kubernetes.Interface, w Workload) (s Sidecar, found bool, err error) {
	if r, ok, err := ResourcesFromAnnotations(w.Template.Annotations); err != nil {
		return Sidecar{}, false, err
	} else if ok {
		s := Sidecar{Kind: SidecarAnnotations, Resources: r}
		if shown, found := SidecarInPodSpec(w.Template.Spec, "the pod template"); found {
			s.Kind, s.Image = shown.Kind, shown.Image
		}
		return s, true, nil
	}
	if s, ok := SidecarInPodSpec(w.Template.Spec, "the pod template"); ok {
		return s, true, nil
	}
	pods, err := ListPods(ctx, client, w, 20)
	if err != nil {
		return Sidecar{}, false, err
	}
	for _, p := range pods {
		if s, ok := SidecarInPodSpec(p.Spec, "pod "+p.Name); ok {
			return s, true, nil
		}
	}
	return Sidecar{Kind: SidecarNone}, false, nil
}

// SidecarResourcesFor is what a sweep keeps of the sidecar: its resources,
// or Istio's defaults when the workload has none to go by.
func SidecarResourcesFor(ctx context.Context, client kubernetes.Interface, w Workload) (SidecarResources, error) {
	s, ok, err := FindSidecar(ctx, client, w)
	if err != nil {
		return SidecarResources{}, err
	}
	if !ok {
		return IstioDefaultResources("no sidecar annotations, template container or injected pod found"), nil
	}
	return s.Resources, nil
}
