package cluster

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
)

func TestProxyConfigAnnotationOverMeshDefaults(t *testing.T) {
	mesh, err := ParseMeshConfig("defaultConfig:\n  concurrency: 2\n  holdApplicationUntilProxyStarts: true\n  terminationDrainDuration: 5s\n  tracing: {zipkin: {address: z:9411}}\nenableTracing: true\n")
	if err != nil {
		t.Fatal(err)
	}
	pod, err := ParseProxyConfig("concurrency: 4\nterminationDrainDuration: 1.5s\n")
	if err != nil {
		t.Fatal(err)
	}
	eff := pod.Over(mesh.DefaultConfig)
	if eff.Concurrency == nil || *eff.Concurrency != 4 {
		t.Errorf("concurrency %v, want the annotation's 4", eff.Concurrency)
	}
	if eff.HoldApplicationUntilProxyStarts == nil || !*eff.HoldApplicationUntilProxyStarts {
		t.Errorf("holdApplicationUntilProxyStarts %v, want the mesh's true", eff.HoldApplicationUntilProxyStarts)
	}
	if eff.TerminationDrainDuration == nil || eff.TerminationDrainDuration.Duration != 1500*time.Millisecond {
		t.Errorf("terminationDrainDuration %v, want the annotation's 1.5s", eff.TerminationDrainDuration)
	}
	if _, err := ParseProxyConfig("- a list\n"); err == nil {
		t.Error("a YAML list read as a ProxyConfig")
	}
}

func TestReadMeshConfigMissingKeyAndRevision(t *testing.T) {
	client := fake.NewClientset(
		&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "istio-system", Name: "istio"}, Data: map[string]string{"meshNetworks": "{}"}},
		&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "istio-system", Name: "istio-canary"}, Data: map[string]string{"mesh": "defaultConfig:\n  concurrency: 0\n"}},
	)
	m, err := ReadMeshConfig(context.Background(), client, MeshConfigOptions{})
	if err != nil || m.Found {
		t.Errorf("a ConfigMap without the mesh key: %+v, %v; want not found, no error", m, err)
	}
	m, err = ReadMeshConfig(context.Background(), client, MeshConfigOptions{ConfigMap: "istio-canary"})
	if err != nil {
		t.Fatal(err)
	}
	if m.DefaultConfig.Concurrency == nil || *m.DefaultConfig.Concurrency != 0 {
		t.Errorf("concurrency %v, want an explicit 0 (every core), not unset", m.DefaultConfig.Concurrency)
	}
	bad := fake.NewClientset(&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "istio-system", Name: "istio"}, Data: map[string]string{"mesh": "defaultConfig: [\n"}})
	if _, err := ReadMeshConfig(context.Background(), bad, MeshConfigOptions{}); err == nil {
		t.Error("an unparsable mesh document gave no error")
	}
}
