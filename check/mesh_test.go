package check

import (
	"strings"
	"testing"
)

func TestParseMeshForms(t *testing.T) {
	cases := map[string]string{
		"mesh YAML": `
defaultConfig:
  holdApplicationUntilProxyStarts: true
  terminationDrainDuration: 20s
  proxyMetadata: {EXIT_ON_ZERO_ACTIVE_CONNECTIONS: "true"}
rootNamespace: mesh-root
aFieldOfANewerIstio: 1
`,
		"istio ConfigMap": `
apiVersion: v1
kind: ConfigMap
metadata: {name: istio, namespace: istio-system}
data:
  mesh: |-
    defaultConfig:
      holdApplicationUntilProxyStarts: true
      terminationDrainDuration: 20s
      proxyMetadata: {EXIT_ON_ZERO_ACTIVE_CONNECTIONS: "true"}
    rootNamespace: mesh-root
`,
		"IstioOperator": `
apiVersion: install.istio.io/v1alpha1
kind: IstioOperator
spec:
  tag: 1.24.3-distroless
  meshConfig:
    rootNamespace: mesh-root
    defaultConfig:
      terminationDrainDuration: 20s
      proxyMetadata: {EXIT_ON_ZERO_ACTIVE_CONNECTIONS: "true"}
  values:
    global:
      proxy: {holdApplicationUntilProxyStarts: true}
  components:
    pilot:
      k8s:
        env: [{name: ENABLE_NATIVE_SIDECARS, value: "false"}]
`,
		"istiod values": `
global:
  tag: 1.24.3
  proxy:
    holdApplicationUntilProxyStarts: true
    resources: {requests: {cpu: 50m}}
pilot:
  env: {ENABLE_NATIVE_SIDECARS: "false"}
meshConfig:
  rootNamespace: mesh-root
  defaultConfig:
    terminationDrainDuration: 20s
    proxyMetadata: {EXIT_ON_ZERO_ACTIVE_CONNECTIONS: "true"}
`,
	}
	for name, doc := range cases {
		m, err := ParseMesh([]byte(doc), name)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		hold := m.Config.GetDefaultConfig().GetHoldApplicationUntilProxyStarts().GetValue() || m.HoldFromValues
		if !hold || m.Config.GetDefaultConfig().GetTerminationDrainDuration().AsDuration().Seconds() != 20 ||
			m.Config.GetDefaultConfig().GetProxyMetadata()[envExitOnZero] != "true" || m.RootNamespace() != "mesh-root" {
			t.Errorf("%s: hold %v, drain %v, metadata %v, root %s", name, hold, m.Config.GetDefaultConfig().GetTerminationDrainDuration(), m.Config.GetDefaultConfig().GetProxyMetadata(), m.RootNamespace())
		}
		if name == "IstioOperator" || name == "istiod values" {
			if m.IstioVersion == nil || m.IstioVersion.String() != "1.24.3" || m.NativeSidecars != "false" {
				t.Errorf("%s: version %v, native %q", name, m.IstioVersion, m.NativeSidecars)
			}
		}
	}
}

func TestParseMeshRejects(t *testing.T) {
	for name, doc := range map[string]string{
		"a Deployment":    "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\n",
		"wrong type":      "defaultConfig: {terminationDrainDuration: [1]}\n",
		"empty":           "",
		"other ConfigMap": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata: {a: b}\n",
	} {
		if _, err := ParseMesh([]byte(doc), "m.yaml"); err == nil || !strings.Contains(err.Error(), "m.yaml") {
			t.Errorf("%s: %v: want an error naming the file", name, err)
		}
	}
}

// The pod annotation overrides the mesh's defaultConfig field by field;
// proxyMetadata merges key by key, as istiod's MergeProxyConfig does.
func TestProxyConfigAnnotationOverlaysTheMesh(t *testing.T) {
	m, err := ParseMesh([]byte("defaultConfig:\n  holdApplicationUntilProxyStarts: true\n  concurrency: 4\n  proxyMetadata: {A: a, B: b}\n"), "m")
	if err != nil {
		t.Fatal(err)
	}
	s := &Set{}
	if err := s.ReadManifests([]byte(`apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata:
      labels: {app: web}
      annotations:
        proxy.istio.io/config: |
          holdApplicationUntilProxyStarts: false
          proxyMetadata: {B: override, C: c}
    spec:
      containers: [{name: app, image: x}]
`), "d.yaml", "default"); err != nil {
		t.Fatal(err)
	}
	var assume []string
	ws, _ := buildWorkloads(s, m, &assume)
	pc := ws[0].proxy
	if pc.GetHoldApplicationUntilProxyStarts().GetValue() || pc.GetConcurrency().GetValue() != 4 {
		t.Errorf("hold %v (want false: the annotation's), concurrency %v (want 4: the mesh's)", pc.GetHoldApplicationUntilProxyStarts(), pc.GetConcurrency())
	}
	md := pc.GetProxyMetadata()
	if md["A"] != "a" || md["B"] != "override" || md["C"] != "c" {
		t.Errorf("proxyMetadata %v", md)
	}
	if m.Config.GetDefaultConfig().GetProxyMetadata()["B"] != "b" {
		t.Error("the mesh's own defaultConfig was modified")
	}
}
