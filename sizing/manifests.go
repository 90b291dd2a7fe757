package sizing

import (
	"encoding/json"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/strategicpatch"
	"sigs.k8s.io/yaml"

	"github.com/proxysizer/proxysizer/internal/quantity"
)

// Istio pod annotations that set the injected proxy's resources and config.
const (
	AnnotationProxyCPU         = "sidecar.istio.io/proxyCPU"
	AnnotationProxyCPULimit    = "sidecar.istio.io/proxyCPULimit"
	AnnotationProxyMemory      = "sidecar.istio.io/proxyMemory"
	AnnotationProxyMemoryLimit = "sidecar.istio.io/proxyMemoryLimit"
	AnnotationProxyConfig      = "proxy.istio.io/config"
)

// Annotations are the pod-template annotations that apply a plan. With no CPU
// limit, proxyCPULimit is left out: Istio then sets none, because any resource
// annotation stops it merging the mesh defaults.
func Annotations(p Plan) map[string]string {
	a := map[string]string{
		AnnotationProxyCPU:         quantity.Millicores(p.Sidecar.CPURequestMillicores),
		AnnotationProxyMemory:      quantity.Bytes(p.Sidecar.MemoryRequestBytes),
		AnnotationProxyMemoryLimit: quantity.Bytes(p.Sidecar.MemoryLimitBytes),
		AnnotationProxyConfig:      fmt.Sprintf("concurrency: %d\n", p.Concurrency),
	}
	if p.Sidecar.CPULimitMillicores > 0 {
		a[AnnotationProxyCPULimit] = quantity.Millicores(p.Sidecar.CPULimitMillicores)
	}
	return a
}

// DeploymentPatch is a strategic-merge patch that sets the plan's annotations
// on a Deployment's pod template, computed by the Kubernetes patch library
// from an empty Deployment to one that carries them.
func DeploymentPatch(p Plan) ([]byte, error) {
	var modified appsv1.Deployment
	modified.Spec.Template.Annotations = Annotations(p)
	before, err := json.Marshal(appsv1.Deployment{})
	if err != nil {
		return nil, err
	}
	after, err := json.Marshal(modified)
	if err != nil {
		return nil, err
	}
	patch, err := strategicpatch.CreateTwoWayMergePatch(before, after, appsv1.Deployment{})
	if err != nil {
		return nil, fmt.Errorf("building the deployment patch: %w", err)
	}
	return yaml.JSONToYAML(patch)
}

// HorizontalPodAutoscaler builds the autoscaling/v2 HPA for a plan.
func HorizontalPodAutoscaler(p Plan, h HPAInput) *autoscalingv2.HorizontalPodAutoscaler {
	minReplicas := h.MinReplicas
	return &autoscalingv2.HorizontalPodAutoscaler{
		TypeMeta:   metav1.TypeMeta{APIVersion: "autoscaling/v2", Kind: "HorizontalPodAutoscaler"},
		ObjectMeta: metav1.ObjectMeta{Name: h.Deployment},
		Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
			ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: h.Deployment},
			MinReplicas:    &minReplicas,
			MaxReplicas:    h.MaxReplicas,
			Metrics:        []autoscalingv2.MetricSpec{p.HPA.Metric},
		},
	}
}

// Manifests renders the deployment patch and, when the plan has an HPA, the
// HorizontalPodAutoscaler, as one YAML stream with how to apply each.
func Manifests(p Plan, in Input) ([]byte, error) {
	patch, err := DeploymentPatch(p)
	if err != nil {
		return nil, err
	}
	name := "DEPLOYMENT"
	if in.HPA != nil {
		name = in.HPA.Deployment
	}
	out := fmt.Appendf(nil, "# Strategic-merge patch for the Deployment's pod template (sidecar resources and concurrency):\n#   kubectl patch deployment %s --type strategic --patch-file THIS_DOCUMENT.yaml\n# It replaces any proxy.istio.io/config annotation: merge other ProxyConfig fields into it first.\n", name)
	out = append(out, patch...)
	if p.HPA == nil || in.HPA == nil {
		return out, nil
	}
	hpa, err := cleanObject(HorizontalPodAutoscaler(p, *in.HPA))
	if err != nil {
		return nil, err
	}
	out = fmt.Appendf(out, "---\n# HorizontalPodAutoscaler: %s\n", p.HPA.MetricReason)
	return append(out, hpa...), nil
}

// cleanObject renders an API object as YAML without the empty status and
// creationTimestamp the typed structs always carry.
func cleanObject(obj runtime.Object) ([]byte, error) {
	u, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		return nil, err
	}
	delete(u, "status")
	if meta, ok := u["metadata"].(map[string]any); ok {
		delete(meta, "creationTimestamp")
	}
	return yaml.Marshal(u)
}
