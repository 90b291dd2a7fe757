package cluster

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/strategicpatch"
	"sigs.k8s.io/yaml"

	"github.com/proxysizer/proxysizer/results"
	"github.com/proxysizer/proxysizer/sizing"
)

func TestMergeConcurrencyKeepsOtherFields(t *testing.T) {
	doc := "terminationDrainDuration: 30s\nholdApplicationUntilProxyStarts: true\nconcurrency: 2\nproxyMetadata:\n  EXIT_ON_ZERO_ACTIVE_CONNECTIONS: \"true\"\n"
	out, err := MergeConcurrency(doc, 4)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := yaml.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"terminationDrainDuration":        "30s",
		"holdApplicationUntilProxyStarts": true,
		"concurrency":                     float64(4),
		"proxyMetadata":                   map[string]any{"EXIT_ON_ZERO_ACTIVE_CONNECTIONS": "true"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("merged %q\n got %#v\nwant %#v", out, got, want)
	}
}

func TestMergeConcurrencyEmptyAndBad(t *testing.T) {
	for _, doc := range []string{"", "# only a comment\n", "null"} {
		out, err := MergeConcurrency(doc, 0)
		if err != nil || out != "concurrency: 0\n" {
			t.Errorf("MergeConcurrency(%q) = %q, %v", doc, out, err)
		}
	}
	if _, err := MergeConcurrency("- a list\n", 2); err == nil {
		t.Error("a YAML list is not a ProxyConfig: want an error, not an overwrite")
	}
}

func q(s string) *resource.Quantity { v := resource.MustParse(s); return &v }

func deref(m map[string]*string) map[string]any {
	out := map[string]any{}
	for k, v := range m {
		if v == nil {
			out[k] = nil
		} else {
			out[k] = *v
		}
	}
	return out
}

func TestSettingAnnotations(t *testing.T) {
	defaults := IstioDefaultResources("test")
	tests := []struct {
		name     string
		original map[string]string
		sidecar  SidecarResources
		setting  results.Setting
		want     map[string]any
	}{
		{
			name: "mesh defaults, limit 1500m", sidecar: defaults,
			setting: results.Setting{Concurrency: 2, CPULimitMillicores: 1500},
			want: map[string]any{
				sizing.AnnotationProxyConfig: "concurrency: 2\n", sizing.AnnotationProxyCPU: "100m",
				sizing.AnnotationProxyCPULimit: "1500m", sizing.AnnotationProxyMemory: "128Mi",
				sizing.AnnotationProxyMemoryLimit: "1Gi",
			},
		},
		{
			name: "no limit removes proxyCPULimit", sidecar: defaults,
			setting: results.Setting{Concurrency: 4},
			want: map[string]any{
				sizing.AnnotationProxyConfig: "concurrency: 4\n", sizing.AnnotationProxyCPU: "100m",
				sizing.AnnotationProxyCPULimit: nil, sizing.AnnotationProxyMemory: "128Mi",
				sizing.AnnotationProxyMemoryLimit: "1Gi",
			},
		},
		{
			name: "request above the limit is clamped; original spellings kept",
			original: map[string]string{
				sizing.AnnotationProxyCPU: "0.5", sizing.AnnotationProxyMemory: "256Mi",
				sizing.AnnotationProxyConfig: "terminationDrainDuration: 20s\n",
			},
			sidecar: SidecarResources{CPURequest: q("500m"), MemoryRequest: q("256Mi"), Source: "annotations"},
			setting: results.Setting{Concurrency: 1, CPULimitMillicores: 250},
			want: map[string]any{
				sizing.AnnotationProxyConfig: "concurrency: 1\nterminationDrainDuration: 20s\n",
				sizing.AnnotationProxyCPU:    "250m", sizing.AnnotationProxyCPULimit: "250m",
				sizing.AnnotationProxyMemory: "256Mi", sizing.AnnotationProxyMemoryLimit: nil,
			},
		},
		{
			name:     "unchanged request keeps its spelling",
			original: map[string]string{sizing.AnnotationProxyCPU: "0.2"},
			sidecar:  SidecarResources{CPURequest: q("0.2")},
			setting:  results.Setting{Concurrency: 2, CPULimitMillicores: 2000},
			want: map[string]any{
				sizing.AnnotationProxyConfig: "concurrency: 2\n", sizing.AnnotationProxyCPU: "0.2",
				sizing.AnnotationProxyCPULimit: "2", sizing.AnnotationProxyMemory: nil,
				sizing.AnnotationProxyMemoryLimit: nil,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := SettingAnnotations(tt.original, tt.sidecar, tt.setting)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(deref(got), tt.want) {
				t.Errorf("got  %v\nwant %v", deref(got), tt.want)
			}
		})
	}
	if _, err := SettingAnnotations(nil, defaults, results.Setting{Concurrency: -1}); err == nil {
		t.Error("negative concurrency accepted")
	}
}

// applyMergePatch applies a JSON merge patch to a Deployment the way the API
// server does.
func applyMergePatch(t *testing.T, d appsv1.Deployment, patch []byte) appsv1.Deployment {
	t.Helper()
	orig, _ := json.Marshal(d)
	merged, err := strategicpatch.StrategicMergePatch(orig, patch, appsv1.Deployment{})
	if err != nil {
		t.Fatal(err)
	}
	var out appsv1.Deployment
	if err := json.Unmarshal(merged, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// withValues is what the annotation map becomes under values: each set, the
// nil ones removed.
func withValues(annotations map[string]string, values map[string]*string) map[string]string {
	out := map[string]string{}
	for k, v := range annotations {
		out[k] = v
	}
	for k, v := range values {
		if v == nil {
			delete(out, k)
		} else {
			out[k] = *v
		}
	}
	return out
}

func TestPatchAndRestoreRoundTrip(t *testing.T) {
	for _, original := range []map[string]string{
		nil,
		{"other": "kept", sizing.AnnotationProxyMemory: "300Mi"},
		{sizing.AnnotationProxyConfig: "concurrency: 8\nterminationDrainDuration: 5s\n", sizing.AnnotationProxyCPULimit: "3"},
	} {
		var d appsv1.Deployment
		d.Spec.Template.Annotations = original
		values, err := SettingAnnotations(original, IstioDefaultResources("test"), results.Setting{Concurrency: 2, CPULimitMillicores: 1000})
		if err != nil {
			t.Fatal(err)
		}
		patch, err := AnnotationPatch(values, "")
		if err != nil {
			t.Fatal(err)
		}
		patched := applyMergePatch(t, d, patch)
		if want := withValues(original, values); !reflect.DeepEqual(patched.Spec.Template.Annotations, want) {
			t.Errorf("patched %v, want %v", patched.Spec.Template.Annotations, want)
		}
		restore, err := AnnotationPatch(RestoreValues(original), "")
		if err != nil {
			t.Fatal(err)
		}
		back := applyMergePatch(t, patched, restore)
		if len(original) == 0 && len(back.Spec.Template.Annotations) == 0 {
			continue
		}
		if !reflect.DeepEqual(back.Spec.Template.Annotations, original) {
			t.Errorf("restored %v, want %v", back.Spec.Template.Annotations, original)
		}
	}
}

func TestAnnotationPatchShape(t *testing.T) {
	v := "1"
	p, err := AnnotationPatch(map[string]*string{"b": nil, "a": &v}, "42")
	if err != nil {
		t.Fatal(err)
	}
	want := `{"metadata":{"resourceVersion":"42"},"spec":{"template":{"metadata":{"annotations":{"a":"1","b":null}}}}}`
	if string(p) != want {
		t.Errorf("patch %s\nwant  %s", p, want)
	}
}

func TestJournalAtomicRoundTrip(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "sub", "j.json")
	j := &Journal{Version: JournalVersion, Tool: "proxysizer", Namespace: "ns", Deployment: "web", UID: "u1",
		OriginalAnnotations: nil, ManagedKeys: ManagedKeys,
		Steps: []JournalStep{{Setting: results.Setting{Concurrency: 2, CPULimitMillicores: 500}}}}
	if err := WriteJournal(path, j); err != nil {
		t.Fatal(err)
	}
	j.OriginalAnnotations = map[string]string{"x": "y"}
	if err := WriteJournal(path, j); err != nil {
		t.Fatal(err)
	}
	got, err := ReadJournal(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got.OriginalAnnotations, j.OriginalAnnotations) || got.UID != "u1" || len(got.Steps) != 1 {
		t.Errorf("read back %+v", got)
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("temporary files left: %v", entries)
	}
	if info, err := os.Stat(path); err != nil || info.Mode().Perm() != 0o600 {
		t.Errorf("journal mode = %v (%v), want 0600: it is the owner's record", info.Mode().Perm(), err)
	}
	// Absence is kept as null, not as an empty map.
	j.OriginalAnnotations = nil
	if err := WriteJournal(path, j); err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(path)
	var m map[string]any
	_ = json.Unmarshal(raw, &m)
	if v, ok := m["original_annotations"]; !ok || v != nil {
		t.Errorf("original_annotations = %v, want null", v)
	}
	if err := os.WriteFile(path, []byte(`{"version":1,"tool":"other"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadJournal(path); err == nil {
		t.Error("a foreign journal was accepted")
	}
}

func TestRolloutComplete(t *testing.T) {
	three := int32(3)
	d := &appsv1.Deployment{}
	d.Generation = 2
	d.Spec.Replicas = &three
	d.Status = appsv1.DeploymentStatus{ObservedGeneration: 1, Replicas: 3, UpdatedReplicas: 3, AvailableReplicas: 3}
	if done, _, _ := RolloutComplete(d, 2); done {
		t.Error("done before the generation was observed")
	}
	d.Status.ObservedGeneration = 2
	d.Status.Replicas = 4
	if done, msg, _ := RolloutComplete(d, 2); done {
		t.Errorf("done with an old replica left: %s", msg)
	}
	d.Status.Replicas = 3
	d.Status.AvailableReplicas = 2
	if done, _, _ := RolloutComplete(d, 2); done {
		t.Error("done with an unavailable replica")
	}
	d.Status.AvailableReplicas = 3
	if done, _, err := RolloutComplete(d, 2); !done || err != nil {
		t.Error("complete rollout not recognised")
	}
	d.Status.Conditions = []appsv1.DeploymentCondition{{Type: appsv1.DeploymentProgressing, Reason: "ProgressDeadlineExceeded"}}
	if _, _, err := RolloutComplete(d, 2); err == nil {
		t.Error("progress deadline not reported")
	}
}
