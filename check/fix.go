package check

import (
	"encoding/json"
	"fmt"
	"strconv"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"sigs.k8s.io/yaml"

	"github.com/proxysizer/proxysizer/sizing"
)

// Fix kinds.
const (
	fixStrategic = "strategic-merge-patch"
	fixManifest  = "manifest"
	fixMesh      = "mesh-config"
)

// toYAML renders a fix document; the inputs are maps and API types built
// here, so a failure is a programming error worth showing as text.
func toYAML(v any) string {
	out, err := yaml.Marshal(v)
	if err != nil {
		return fmt.Sprintf("# cannot render the fix: %v\n", err)
	}
	return string(out)
}

// podTemplatePatch is a strategic-merge patch of a workload's pod template.
func podTemplatePatch(annotations, labels map[string]string, spec map[string]any) string {
	meta := map[string]any{}
	if len(annotations) > 0 {
		meta["annotations"] = annotations
	}
	if len(labels) > 0 {
		meta["labels"] = labels
	}
	tpl := map[string]any{}
	if len(meta) > 0 {
		tpl["metadata"] = meta
	}
	if len(spec) > 0 {
		tpl["spec"] = spec
	}
	return toYAML(map[string]any{"spec": map[string]any{"template": tpl}})
}

// withProxyConfig returns the workload's proxy.istio.io/config document
// with fields set (a nested map merges one level down, for proxyMetadata),
// keeping every field it had: the annotation is one string, so a patch
// replaces it whole.
func (w *workload) withProxyConfig(set map[string]any) map[string]string {
	doc := map[string]any{}
	if cur, ok := w.annotations()[sizing.AnnotationProxyConfig]; ok {
		if err := yaml.Unmarshal([]byte(cur), &doc); err != nil || doc == nil {
			doc = map[string]any{}
		}
	}
	for k, v := range set {
		if sub, ok := v.(map[string]any); ok {
			into, _ := doc[k].(map[string]any)
			if into == nil {
				into = map[string]any{}
			}
			for sk, sv := range sub {
				into[sk] = sv
			}
			v = into
		}
		doc[k] = v
	}
	return map[string]string{sizing.AnnotationProxyConfig: toYAML(doc)}
}

// istioManifest writes an Istio resource with a changed spec, ready to apply.
func istioManifest[T proto.Message](o IstioObject[T], spec T) string {
	api := "networking.istio.io/v1"
	kind := ""
	if o.Object != nil {
		api, kind = o.Object.GetAPIVersion(), o.Object.GetKind()
	}
	return newIstioManifest(api, kind, o.Namespace, o.Name, spec)
}

func newIstioManifest(apiVersion, kind, ns, name string, spec proto.Message) string {
	raw, err := protojson.Marshal(spec)
	if err != nil {
		return fmt.Sprintf("# cannot render the fix: %v\n", err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		return fmt.Sprintf("# cannot render the fix: %v\n", err)
	}
	return toYAML(map[string]any{
		"apiVersion": apiVersion, "kind": kind,
		"metadata": map[string]any{"name": name, "namespace": ns},
		"spec":     m,
	})
}

// seconds formats a duration in seconds as ProxyConfig and kubectl write it.
func seconds(s float64) string {
	return strconv.FormatFloat(s, 'f', -1, 64) + "s"
}
