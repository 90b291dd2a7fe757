package check

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/wrapperspb"
	meshv1alpha1 "istio.io/api/mesh/v1alpha1"
	networking "istio.io/api/networking/v1alpha3"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/version"
	"sigs.k8s.io/yaml"
)

// Istio's defaults for the fields the checks read (istio/istio
// pkg/config/mesh/mesh.go DefaultMeshConfig and DefaultProxyConfig).
const (
	defaultDrainSeconds    = 5 // ProxyConfig.terminationDrainDuration
	defaultMinDrainSeconds = 5 // pilot-agent MINIMUM_DRAIN_DURATION
	defaultRootNamespace   = "istio-system"
)

// Mesh is Istio's mesh configuration as far as the checks need it: the
// MeshConfig (the `mesh` key of the istio ConfigMap, or meshConfig of an
// IstioOperator or Helm values file), merged over Istio's defaults, and the
// injector's values that sit outside it.
type Mesh struct {
	Config *meshv1alpha1.MeshConfig
	// HoldFromValues is values.global.proxy.holdApplicationUntilProxyStarts,
	// which the injection template ORs with ProxyConfig's.
	HoldFromValues bool
	// ProxyResources is values.global.proxy.resources (nil: Istio's defaults).
	ProxyResources *corev1.ResourceRequirements
	// NativeSidecars is istiod's ENABLE_NATIVE_SIDECARS ("": not set).
	NativeSidecars string
	// IstioVersion comes from the install's tag, when it has one.
	IstioVersion *version.Version
	// Source says what was read.
	Source string
}

// DefaultMesh is Istio's defaults: what applies when no mesh configuration
// is given.
func DefaultMesh() *Mesh {
	return &Mesh{Config: defaultMeshConfig(), Source: "Istio's defaults (no mesh configuration given)"}
}

func defaultMeshConfig() *meshv1alpha1.MeshConfig {
	return &meshv1alpha1.MeshConfig{
		RootNamespace:     defaultRootNamespace,
		LocalityLbSetting: &networking.LocalityLoadBalancerSetting{Enabled: wrapperspb.Bool(true)},
		DefaultConfig: &meshv1alpha1.ProxyConfig{
			TerminationDrainDuration: durationpb.New(defaultDrainSeconds * 1e9),
		},
	}
}

// ParseMesh reads a mesh configuration file. It accepts, in one or more
// YAML documents:
//   - the mesh configuration itself (the `mesh` key of the istio ConfigMap:
//     defaultConfig, rootNamespace, defaultHttpRetryPolicy, ...);
//   - the istio ConfigMap (data.mesh) and the istio-sidecar-injector
//     ConfigMap (data.values);
//   - an IstioOperator (spec.meshConfig, spec.values, spec.tag and the
//     pilot component's env);
//   - a Helm values file of the istiod chart (meshConfig, global.proxy,
//     global.tag, pilot.env).
func ParseMesh(data []byte, source string) (*Mesh, error) {
	m := DefaultMesh()
	m.Source = source
	docs := splitDocuments(data)
	if len(docs) == 0 {
		return nil, fmt.Errorf("%s: empty: expected Istio's mesh configuration, an IstioOperator or a values file", source)
	}
	for _, d := range docs {
		var top map[string]any
		if err := yaml.Unmarshal(d.body, &top); err != nil {
			return nil, fmt.Errorf("%s line %d: not YAML: %v", source, d.line, err)
		}
		if top == nil {
			continue
		}
		if err := m.apply(top); err != nil {
			return nil, fmt.Errorf("%s line %d: %w", source, d.line, err)
		}
	}
	return m, nil
}

func (m *Mesh) apply(top map[string]any) error {
	kind, _ := top["kind"].(string)
	switch kind {
	case "ConfigMap":
		data, _ := top["data"].(map[string]any)
		mesh, hasMesh := data["mesh"].(string)
		values, hasValues := data["values"].(string)
		if !hasMesh && !hasValues {
			return fmt.Errorf("ConfigMap has neither data.mesh (the istio ConfigMap) nor data.values (istio-sidecar-injector)")
		}
		if hasMesh {
			if err := m.mergeMeshYAML([]byte(mesh)); err != nil {
				return err
			}
		}
		if hasValues {
			var v map[string]any
			if err := yaml.Unmarshal([]byte(values), &v); err != nil {
				return fmt.Errorf("ConfigMap data.values is not JSON/YAML: %v", err)
			}
			return m.applyValues(v)
		}
		return nil
	case "IstioOperator":
		spec, _ := top["spec"].(map[string]any)
		if mc, ok := spec["meshConfig"]; ok {
			if err := m.mergeMeshValue(mc); err != nil {
				return err
			}
		}
		if v, ok := spec["values"].(map[string]any); ok {
			if err := m.applyValues(v); err != nil {
				return err
			}
		}
		m.setTag(spec["tag"])
		env, _, _ := nested(spec, "components", "pilot", "k8s", "env")
		for _, e := range asSlice(env) {
			em, _ := e.(map[string]any)
			if em["name"] == "ENABLE_NATIVE_SIDECARS" {
				m.NativeSidecars = fmt.Sprint(em["value"])
			}
		}
		return nil
	case "":
	default:
		return fmt.Errorf("a %s is not a mesh configuration: expected the mesh YAML, the istio ConfigMap, an IstioOperator or an istiod values file", kind)
	}
	if _, ok := top["meshConfig"]; ok || top["global"] != nil || top["pilot"] != nil {
		if err := m.mergeMeshValue(top["meshConfig"]); err != nil {
			return err
		}
		return m.applyValues(top)
	}
	raw, err := json.Marshal(top)
	if err != nil {
		return err
	}
	return m.mergeMeshJSON(raw)
}

func (m *Mesh) mergeMeshValue(v any) error {
	if v == nil {
		return nil
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return m.mergeMeshJSON(raw)
}

func (m *Mesh) mergeMeshYAML(y []byte) error {
	raw, err := yaml.YAMLToJSON(y)
	if err != nil {
		return fmt.Errorf("mesh configuration is not YAML: %v", err)
	}
	if bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		return nil
	}
	return m.mergeMeshJSON(raw)
}

// mergeMeshJSON merges a MeshConfig document over what is set, as istiod
// merges the ConfigMap over its defaults; proxyMetadata maps merge key by key.
// Fields of a newer Istio than istio.io/api knows are ignored.
func (m *Mesh) mergeMeshJSON(raw []byte) error {
	next := &meshv1alpha1.MeshConfig{}
	if err := (protojson.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(raw, next); err != nil {
		return fmt.Errorf("not an Istio MeshConfig: %v", err)
	}
	overlay(m.Config.ProtoReflect(), next.ProtoReflect())
	return nil
}

// overlay applies src over dst as istiod applies configuration over its
// defaults (pkg/config/mesh ApplyMeshConfig, MergeProxyConfig): each field
// src sets replaces dst's, except that defaultConfig is overlaid field by
// field and proxyMetadata merges key by key.
func overlay(dst, src protoreflect.Message) {
	src.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		switch {
		case fd.Name() == "default_config" && dst.Has(fd):
			overlay(dst.Mutable(fd).Message(), v.Message())
		case fd.Name() == "proxy_metadata" && fd.IsMap():
			into := dst.Mutable(fd).Map()
			v.Map().Range(func(k protoreflect.MapKey, mv protoreflect.Value) bool {
				into.Set(k, mv)
				return true
			})
		default:
			dst.Set(fd, v)
		}
		return true
	})
}

func (m *Mesh) applyValues(v map[string]any) error {
	if h, ok, _ := nested(v, "global", "proxy", "holdApplicationUntilProxyStarts"); ok {
		m.HoldFromValues = h == true || h == "true"
	}
	if r, ok, _ := nested(v, "global", "proxy", "resources"); ok && r != nil {
		raw, _ := json.Marshal(r)
		var rr corev1.ResourceRequirements
		if err := json.Unmarshal(raw, &rr); err != nil {
			return fmt.Errorf("values global.proxy.resources is not a resources block: %v", err)
		}
		m.ProxyResources = &rr
	}
	if e, ok, _ := nested(v, "pilot", "env", "ENABLE_NATIVE_SIDECARS"); ok {
		m.NativeSidecars = fmt.Sprint(e)
	}
	if t, ok, _ := nested(v, "global", "tag"); ok {
		m.setTag(t)
	}
	return nil
}

// setTag reads a version from an image tag such as 1.24.2 or 1.24.2-distroless.
func (m *Mesh) setTag(t any) {
	s, ok := t.(string)
	if !ok || s == "" {
		return
	}
	if v, err := version.ParseGeneric(strings.TrimPrefix(s, "v")); err == nil {
		m.IstioVersion = v
	}
}

func nested(m map[string]any, path ...string) (any, bool, error) {
	var cur any = m
	for _, p := range path {
		mm, ok := cur.(map[string]any)
		if !ok {
			return nil, false, nil
		}
		cur, ok = mm[p]
		if !ok {
			return nil, false, nil
		}
	}
	return cur, true, nil
}

func asSlice(v any) []any {
	s, _ := v.([]any)
	return s
}

// RootNamespace is Istio's root namespace: its Sidecar without a selector
// applies to every namespace that has none of its own.
func (m *Mesh) RootNamespace() string {
	if m == nil || m.Config.GetRootNamespace() == "" {
		return defaultRootNamespace
	}
	return m.Config.GetRootNamespace()
}
