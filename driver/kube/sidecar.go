package kube

import (
	"context"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
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

// Sidecar is the sidecar found for a Deployment.
type Sidecar struct {
	Kind     SidecarKind `json:"kind"`
	Baseline Baseline    `json:"resources"`
}

// BaselineFromAnnotations reads the resource annotations. ok is false when
// none is set: the mesh defaults (or the injected container) then apply.
func BaselineFromAnnotations(a map[string]string) (Baseline, bool, error) {
	if !hasResourceAnnotation(a) {
		return Baseline{}, false, nil
	}
	b := Baseline{Source: "pod-template annotations"}
	for key, dst := range map[string]**resource.Quantity{
		sizing.AnnotationProxyCPU: &b.CPURequest, sizing.AnnotationProxyCPULimit: &b.CPULimit,
		sizing.AnnotationProxyMemory: &b.MemoryRequest, sizing.AnnotationProxyMemoryLimit: &b.MemoryLimit,
	} {
		v, ok := a[key]
		if !ok {
			continue
		}
		q, err := resource.ParseQuantity(v)
		if err != nil {
			return Baseline{}, false, fmt.Errorf("annotation %s=%q is not a quantity: %w", key, v, err)
		}
		*dst = &q
	}
	return b, true, nil
}

// baselineFromContainer reads a container's resources.
func baselineFromContainer(c corev1.Container, source string) Baseline {
	get := func(l corev1.ResourceList, name corev1.ResourceName) *resource.Quantity {
		if q, ok := l[name]; ok {
			return &q
		}
		return nil
	}
	return Baseline{
		CPURequest:    get(c.Resources.Requests, corev1.ResourceCPU),
		CPULimit:      get(c.Resources.Limits, corev1.ResourceCPU),
		MemoryRequest: get(c.Resources.Requests, corev1.ResourceMemory),
		MemoryLimit:   get(c.Resources.Limits, corev1.ResourceMemory),
		Source:        source,
	}
}

// SidecarInPodSpec finds an istio-proxy container: a regular one (injected,
// or manually with istioctl kube-inject) or a native sidecar.
func SidecarInPodSpec(spec corev1.PodSpec, where string) (Sidecar, bool) {
	for _, c := range spec.Containers {
		if c.Name == SidecarContainerName {
			return Sidecar{Kind: SidecarContainer, Baseline: baselineFromContainer(c, "container "+SidecarContainerName+" in "+where)}, true
		}
	}
	for _, c := range spec.InitContainers {
		if c.Name == SidecarContainerName && c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways {
			return Sidecar{Kind: SidecarNative, Baseline: baselineFromContainer(c, "native sidecar init container "+SidecarContainerName+" in "+where)}, true
		}
	}
	return Sidecar{}, false
}

// FindSidecar finds a Deployment's sidecar and its resources, in order: the
// pod-template annotations, an istio-proxy container in the template (regular
// or native), then one in a running pod of the Deployment (the injected
// container). Found is false when none of these has one.
func FindSidecar(ctx context.Context, client kubernetes.Interface, d *appsv1.Deployment) (Sidecar, bool, error) {
	if b, ok, err := BaselineFromAnnotations(d.Spec.Template.Annotations); err != nil {
		return Sidecar{}, false, err
	} else if ok {
		kind := SidecarAnnotations
		if s, found := SidecarInPodSpec(d.Spec.Template.Spec, "the pod template"); found {
			kind = s.Kind
		}
		return Sidecar{Kind: kind, Baseline: b}, true, nil
	}
	if s, ok := SidecarInPodSpec(d.Spec.Template.Spec, "the pod template"); ok {
		return s, true, nil
	}
	if d.Spec.Selector == nil {
		return Sidecar{}, false, nil
	}
	sel, err := metav1.LabelSelectorAsSelector(d.Spec.Selector)
	if err != nil {
		return Sidecar{}, false, fmt.Errorf("deployment %s/%s selector: %w", d.Namespace, d.Name, err)
	}
	pods, err := client.CoreV1().Pods(d.Namespace).List(ctx, metav1.ListOptions{LabelSelector: sel.String(), Limit: 20})
	if err != nil {
		return Sidecar{}, false, fmt.Errorf("listing the pods of deployment %s/%s: %w", d.Namespace, d.Name, err)
	}
	for _, p := range pods.Items {
		if p.DeletionTimestamp != nil {
			continue
		}
		if s, ok := SidecarInPodSpec(p.Spec, "pod "+p.Name); ok {
			return s, true, nil
		}
	}
	return Sidecar{Kind: SidecarNone}, false, nil
}

// BaselineFor is the baseline a sweep keeps: the sidecar's, or Istio's
// defaults when the Deployment has no sidecar resources to go by.
func BaselineFor(ctx context.Context, client kubernetes.Interface, d *appsv1.Deployment) (Baseline, error) {
	s, ok, err := FindSidecar(ctx, client, d)
	if err != nil {
		return Baseline{}, err
	}
	if !ok {
		return IstioDefaultBaseline("no sidecar annotations, template container or injected pod found"), nil
	}
	return s.Baseline, nil
}
