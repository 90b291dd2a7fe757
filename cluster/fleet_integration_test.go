//go:build integration

package cluster_test

import (
	"context"
	"encoding/json"
	"reflect"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/proxysizer/proxysizer/cluster"
	"github.com/proxysizer/proxysizer/internal/kubeharness"
	"github.com/proxysizer/proxysizer/sizing"
)

func cpuHPA(ns, name string, target int32) *autoscalingv2.HorizontalPodAutoscaler {
	return &autoscalingv2.HorizontalPodAutoscaler{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
			ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: name},
			MaxReplicas:    4,
			Metrics: []autoscalingv2.MetricSpec{{Type: autoscalingv2.ResourceMetricSourceType, Resource: &autoscalingv2.ResourceMetricSource{
				Name: corev1.ResourceCPU, Target: autoscalingv2.MetricTarget{Type: autoscalingv2.UtilizationMetricType, AverageUtilization: &target}}}},
		},
	}
}

// Every Deployment and HPA of several namespaces, read page by page from
// the real API server (pages of 2, so that it hands out continue tokens).
func TestListWorkloadsAndHPAsAcrossNamespaces(t *testing.T) {
	defer cluster.SetPageSize(2)()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	want := map[string]bool{}
	for _, prefix := range []string{"fleet-a", "fleet-b"} {
		ns := harness.Namespace(t, prefix)
		for _, name := range []string{"web", "api", "cart"} {
			harness.CreateDeployment(t, kubeharness.NewDeployment(ns, name, 1, map[string]string{sizing.AnnotationProxyCPU: "100m"}))
			if _, err := harness.Client.AutoscalingV2().HorizontalPodAutoscalers(ns).Create(ctx, cpuHPA(ns, name, 70), metav1.CreateOptions{}); err != nil {
				t.Fatal(err)
			}
			want[ns+"/"+name] = true
		}
	}
	workloads, err := cluster.ListWorkloadsOf(ctx, harness.Client, "", cluster.KindDeployment)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]cluster.Workload{}
	for _, w := range workloads {
		got[w.Namespace+"/"+w.Name] = w
	}
	for key := range want {
		w, ok := got[key]
		if !ok {
			t.Errorf("deployment %s not listed", key)
			continue
		}
		if w.Kind != cluster.KindDeployment || w.Replicas != 1 || w.Selector == nil || len(w.Template.Spec.Containers) != 1 {
			t.Errorf("workload %s: %+v, want a Deployment of 1 replica with its selector and template", key, w)
		}
		if w.Template.Annotations[sizing.AnnotationProxyCPU] != "100m" {
			t.Errorf("workload %s: template annotations %v, want the sidecar's", key, w.Template.Annotations)
		}
	}
	hpas, err := cluster.ListHPAs(ctx, harness.Client, "")
	if err != nil {
		t.Fatal(err)
	}
	listed := 0
	for _, h := range hpas {
		if want[h.Namespace+"/"+h.Name] {
			listed++
		}
	}
	if listed != len(want) {
		t.Errorf("%d of the %d HPAs listed", listed, len(want))
	}
	// One namespace only.
	ns := workloads[0].Namespace
	inOne, err := cluster.ListWorkloadsOf(ctx, harness.Client, ns, cluster.KindDeployment)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range inOne {
		if w.Namespace != ns {
			t.Errorf("listing %s returned %s", ns, w)
		}
	}
}

// Istio's mesh configuration, from the ConfigMap the way istiod reads it.
func TestReadMeshConfigFromTheAPIServer(t *testing.T) {
	ctx := context.Background()
	root := harness.Namespace(t, "istio-root")
	o := cluster.MeshConfigOptions{Namespace: root}
	m, err := cluster.ReadMeshConfig(ctx, harness.Client, o)
	if err != nil || m.Found {
		t.Fatalf("no ConfigMap yet: %+v, %v; want not found and no error", m, err)
	}
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: root, Name: cluster.DefaultMeshConfigMap}, Data: map[string]string{
		"mesh": "defaultConfig:\n  discoveryAddress: istiod.istio-system.svc:15012\n  holdApplicationUntilProxyStarts: true\n  concurrency: 2\n  terminationDrainDuration: 45s\nrootNamespace: istio-system\ntrustDomain: cluster.local\n",
	}}
	if _, err := harness.Client.CoreV1().ConfigMaps(root).Create(ctx, cm, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	m, err = cluster.ReadMeshConfig(ctx, harness.Client, o)
	if err != nil {
		t.Fatal(err)
	}
	if !m.Found || m.Source != "configmap "+root+"/istio" {
		t.Errorf("found %v from %q, want the ConfigMap", m.Found, m.Source)
	}
	two, hold := int32(2), true
	want := cluster.ProxyConfig{Concurrency: &two, HoldApplicationUntilProxyStarts: &hold, TerminationDrainDuration: &metav1.Duration{Duration: 45 * time.Second}}
	if !reflect.DeepEqual(m.DefaultConfig, want) {
		t.Errorf("defaultConfig %s, want %s", dump(m.DefaultConfig), dump(want))
	}
	if m.RootNamespace != "istio-system" {
		t.Errorf("root namespace %q, want istio-system", m.RootNamespace)
	}
}

func dump(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// StatefulSets are workloads too: listed beside the Deployments page by
// page, read by name, their pods matched in memory from one listing.
func TestStatefulSetsAndOnePodListing(t *testing.T) {
	defer cluster.SetPageSize(2)()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ns := harness.Namespace(t, "sts")
	harness.CreateDeployment(t, kubeharness.NewDeployment(ns, "web", 2, nil))
	for _, name := range []string{"db", "cache", "queue"} {
		d := kubeharness.NewDeployment(ns, name, 1, map[string]string{sizing.AnnotationProxyCPU: "300m"})
		st := &appsv1.StatefulSet{ObjectMeta: d.ObjectMeta, Spec: appsv1.StatefulSetSpec{Replicas: d.Spec.Replicas, Selector: d.Spec.Selector, Template: d.Spec.Template, ServiceName: name}}
		if _, err := harness.Client.AppsV1().StatefulSets(ns).Create(ctx, st, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	ws, err := cluster.ListWorkloadsOf(ctx, harness.Client, ns, cluster.KindDeployment, cluster.KindStatefulSet)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, w := range ws {
		got = append(got, w.String())
	}
	want := []string{"deployment " + ns + "/web", "statefulset " + ns + "/cache", "statefulset " + ns + "/db", "statefulset " + ns + "/queue"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("listed %v, want %v", got, want)
	}
	db, err := cluster.ReadWorkload(ctx, harness.Client, cluster.KindStatefulSet, ns, "db")
	if err != nil || db.Kind != cluster.KindStatefulSet || db.Template.Annotations[sizing.AnnotationProxyCPU] != "300m" || db.Replicas != 1 {
		t.Errorf("statefulset db: %+v, %v", db, err)
	}
	pods, err := cluster.ListAllPods(ctx, harness.Client, ns)
	if err != nil {
		t.Fatal(err)
	}
	mine, err := cluster.PodsOf(ws[0], pods)
	if err != nil || len(mine) != 2 {
		t.Errorf("web's pods from one listing: %d, %v", len(mine), err)
	}
}
