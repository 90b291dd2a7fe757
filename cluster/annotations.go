package cluster

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"

	"k8s.io/apimachinery/pkg/api/resource"
	"sigs.k8s.io/yaml"

	"github.com/proxysizer/proxysizer/internal/quantity"
	"github.com/proxysizer/proxysizer/results"
	"github.com/proxysizer/proxysizer/sizing"
)

// ManagedKeys are the pod-template annotations a sweep sets, and so the ones
// a restore puts back (or removes).
var ManagedKeys = []string{
	sizing.AnnotationProxyConfig,
	sizing.AnnotationProxyCPU,
	sizing.AnnotationProxyCPULimit,
	sizing.AnnotationProxyMemory,
	sizing.AnnotationProxyMemoryLimit,
}

// resourceKeys are the four annotations that, once any is set, make Istio
// drop every mesh-default resource of the injected proxy.
var resourceKeys = []string{
	sizing.AnnotationProxyCPU, sizing.AnnotationProxyCPULimit,
	sizing.AnnotationProxyMemory, sizing.AnnotationProxyMemoryLimit,
}

// SettingAnnotations is the managed annotations for one setting: the value
// of each key, or nil for a key that must be absent.
//
// All four resource annotations are set because Istio merges nothing from
// the mesh defaults once one is: proxyCPULimit is the setting's limit
// (absent for none); proxyCPU the sidecar's original request (Istio's 100m when
// unknown), never above the limit; proxyMemory and proxyMemoryLimit the
// original ones, so the memory the pod had is kept (absent where it had
// none). proxy.istio.io/config is the original ProxyConfig document with
// concurrency merged in.
func SettingAnnotations(original map[string]string, base SidecarResources, s results.Setting) (map[string]*string, error) {
	if s.Concurrency < 0 || s.CPULimitMillicores < 0 {
		return nil, fmt.Errorf("setting %s: concurrency and CPU limit must be >= 0", s)
	}
	out := make(map[string]*string, len(ManagedKeys))
	cfg, err := MergeConcurrency(original[sizing.AnnotationProxyConfig], s.Concurrency)
	if err != nil {
		return nil, err
	}
	out[sizing.AnnotationProxyConfig] = &cfg

	cpu := IstioDefaultCPURequest.DeepCopy()
	if base.CPURequest != nil {
		cpu = base.CPURequest.DeepCopy()
	}
	if s.CPULimitMillicores > 0 {
		limit := quantity.Millicores(s.CPULimitMillicores)
		out[sizing.AnnotationProxyCPULimit] = &limit
		if cpu.MilliValue() > s.CPULimitMillicores {
			cpu = *resource.NewMilliQuantity(s.CPULimitMillicores, resource.DecimalSI)
		}
	} else {
		out[sizing.AnnotationProxyCPULimit] = nil
	}
	out[sizing.AnnotationProxyCPU] = strPtr(quantityString(original[sizing.AnnotationProxyCPU], cpu))
	out[sizing.AnnotationProxyMemory] = quantityOrNil(original[sizing.AnnotationProxyMemory], base.MemoryRequest)
	out[sizing.AnnotationProxyMemoryLimit] = quantityOrNil(original[sizing.AnnotationProxyMemoryLimit], base.MemoryLimit)
	return out, nil
}

// quantityString keeps the original spelling of an unchanged quantity.
func quantityString(original string, q resource.Quantity) string {
	if original != "" {
		if o, err := resource.ParseQuantity(original); err == nil && o.Cmp(q) == 0 {
			return original
		}
	}
	return q.String()
}

func quantityOrNil(original string, q *resource.Quantity) *string {
	if q == nil {
		return nil
	}
	return strPtr(quantityString(original, *q))
}

func strPtr(s string) *string { return &s }

// MergeConcurrency sets `concurrency: n` in a ProxyConfig YAML document and
// keeps every other field (terminationDrainDuration, holdApplicationUntil...).
// An empty document becomes `concurrency: n`.
func MergeConcurrency(doc string, n int) (string, error) {
	fields := map[string]any{}
	if err := yaml.Unmarshal([]byte(doc), &fields); err != nil {
		return "", fmt.Errorf("the %s annotation is not a ProxyConfig YAML document: %w", sizing.AnnotationProxyConfig, err)
	}
	if fields == nil { // a document of only comments or "null"
		fields = map[string]any{}
	}
	fields["concurrency"] = n
	out, err := yaml.Marshal(fields)
	if err != nil {
		return "", err
	}
	return string(out), nil
}

// RestoreValues is the managed annotations as they were: the original value,
// or nil where the key was absent.
func RestoreValues(original map[string]string) map[string]*string {
	out := make(map[string]*string, len(ManagedKeys))
	for _, k := range ManagedKeys {
		if v, ok := original[k]; ok {
			out[k] = strPtr(v)
		} else {
			out[k] = nil
		}
	}
	return out
}

// AnnotationPatch is a JSON merge patch (RFC 7386) for a Deployment that sets
// each pod-template annotation in values, and removes the nil ones. A
// non-empty resourceVersion makes the server reject the patch on a conflict.
func AnnotationPatch(values map[string]*string, resourceVersion string) ([]byte, error) {
	ann := make(map[string]any, len(values))
	for _, k := range slices.Sorted(maps.Keys(values)) {
		if v := values[k]; v != nil {
			ann[k] = *v
		} else {
			ann[k] = nil
		}
	}
	patch := map[string]any{"spec": map[string]any{"template": map[string]any{"metadata": map[string]any{"annotations": ann}}}}
	if resourceVersion != "" {
		patch["metadata"] = map[string]any{"resourceVersion": resourceVersion}
	}
	return json.Marshal(patch)
}

// hasResourceAnnotation says whether any of the four resource annotations is set.
func hasResourceAnnotation(a map[string]string) bool {
	for _, k := range resourceKeys {
		if _, ok := a[k]; ok {
			return true
		}
	}
	return false
}
