//go:build integration

package check

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/yaml"

	"github.com/proxysizer/proxysizer/cluster/prom"
	"github.com/proxysizer/proxysizer/internal/kubeharness"
	"github.com/proxysizer/proxysizer/internal/promtest"
)

var harness *kubeharness.Harness

func TestMain(m *testing.M) { os.Exit(kubeharness.RunTests(m, &harness)) }

// resources maps the kinds the fixtures hold to their API resources.
var resources = map[string]schema.GroupVersionResource{
	"Deployment":              {Group: "apps", Version: "v1", Resource: "deployments"},
	"Service":                 {Version: "v1", Resource: "services"},
	"ConfigMap":               {Version: "v1", Resource: "configmaps"},
	"HorizontalPodAutoscaler": {Group: "autoscaling", Version: "v2", Resource: "horizontalpodautoscalers"},
	"VirtualService":          {Group: "networking.istio.io", Version: "v1", Resource: "virtualservices"},
	"DestinationRule":         {Group: "networking.istio.io", Version: "v1", Resource: "destinationrules"},
	"Sidecar":                 {Group: "networking.istio.io", Version: "v1", Resource: "sidecars"},
}

// installIstioCRDs registers VirtualService, DestinationRule and Sidecar
// without schemas (preserve-unknown-fields), as the harness's Sidecar CRD.
func installIstioCRDs(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	crds := schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}
	for _, kind := range []string{"VirtualService", "DestinationRule", "Sidecar"} {
		plural := strings.ToLower(kind) + "s"
		crd := &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
			"metadata": map[string]any{"name": plural + ".networking.istio.io"},
			"spec": map[string]any{
				"group": "networking.istio.io", "scope": "Namespaced",
				"names": map[string]any{"kind": kind, "listKind": kind + "List", "plural": plural, "singular": strings.ToLower(kind)},
				"versions": []any{map[string]any{"name": "v1", "served": true, "storage": true,
					"schema": map[string]any{"openAPIV3Schema": map[string]any{"type": "object", "x-kubernetes-preserve-unknown-fields": true}}}},
			},
		}}
		if _, err := harness.Dynamic.Resource(crds).Create(ctx, crd, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			t.Fatalf("creating the %s CRD: %v", kind, err)
		}
		err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
			_, err := harness.Dynamic.Resource(resources[kind]).Namespace("default").List(ctx, metav1.ListOptions{})
			return err == nil, nil
		})
		if err != nil {
			t.Fatalf("the %s CRD is not served: %v", kind, err)
		}
	}
}

// apply creates every object of a fixture file in ns ("" keeps the file's).
func apply(t *testing.T, file, ns string) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "live", file))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, d := range splitDocuments(data) {
		var u unstructured.Unstructured
		if err := yaml.Unmarshal(d.body, &u.Object); err != nil {
			t.Fatal(err)
		}
		if ns != "" {
			u.SetNamespace(ns)
		}
		gvr, ok := resources[u.GetKind()]
		if !ok {
			t.Fatalf("%s: no resource for kind %s", file, u.GetKind())
		}
		if _, err := harness.Dynamic.Resource(gvr).Namespace(u.GetNamespace()).Create(ctx, &u, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			t.Fatalf("%s: creating %s %s: %v", file, u.GetKind(), u.GetName(), err)
		}
	}
}

// meshNamespace is a namespace labelled for injection, as a team's would be.
func meshNamespace(t *testing.T, prefix string) string {
	t.Helper()
	ns := harness.Namespace(t, prefix)
	ctx := context.Background()
	n, err := harness.Client.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	n.Labels["istio-injection"] = "enabled"
	if _, err := harness.Client.CoreV1().Namespaces().Update(ctx, n, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	return ns
}

var setupOnce bool

// setupMesh installs the CRDs, an istio-system with Istio 1.24's ConfigMap
// and istiod, and 25 services elsewhere so that an unscoped proxy holds
// far more than its namespace.
func setupMesh(t *testing.T) {
	t.Helper()
	if setupOnce {
		return
	}
	installIstioCRDs(t)
	ctx := context.Background()
	for _, name := range []string{"istio-system", "bulk"} {
		_, err := harness.Client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
		if err != nil && !apierrors.IsAlreadyExists(err) {
			t.Fatal(err)
		}
	}
	apply(t, "istio-system.yaml", "")
	for i := range 25 {
		svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("svc-%02d", i), Namespace: "bulk"},
			Spec: corev1.ServiceSpec{Selector: map[string]string{"app": "none"}, Ports: []corev1.ServicePort{{Name: "http", Port: 80}}}}
		if _, err := harness.Client.CoreV1().Services("bulk").Create(ctx, svc, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			t.Fatal(err)
		}
	}
	setupOnce = true
}

func loadLive(t *testing.T, ns string) *Report {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	s, err := LoadCluster(ctx, harness.Client, harness.Dynamic, LiveScope{Namespaces: []string{ns}})
	if err != nil {
		t.Fatal(err)
	}
	r, err := Run(s, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestLiveFlawedNamespace(t *testing.T) {
	setupMesh(t)
	ns := meshNamespace(t, "flawed")
	apply(t, "flawed.yaml", ns)
	harness.WaitRolledOut(t, ns, "web")
	r := loadLive(t, ns)

	if r.Environment.Kubernetes != "1.33.4" || r.Environment.Istio != "1.24.3" || !strings.Contains(r.Environment.IstioSource, "docker.io/istio/pilot:1.24.3") {
		t.Errorf("environment %+v: want the API server's 1.33.4 and istiod's image tag", r.Environment)
	}
	if !strings.Contains(r.Mesh, "ConfigMap istio-system/istio") {
		t.Errorf("mesh config from %q, want the istio ConfigMap", r.Mesh)
	}
	if len(r.NotEvaluated) != 0 {
		t.Errorf("live, every check runs: %+v", r.NotEvaluated)
	}
	want := map[string]string{
		"PS101": "holdApplicationUntilProxyStarts is off",
		"PS102": `container "app" sleeps 15s in preStop`,
		"PS104": "exits 5s after SIGTERM",
		"PS105": "Kubernetes 1.33.4 and Istio 1.24.3 support native sidecars",
		"PS201": "only sidecar.istio.io/proxyCPU of the four",
		"PS203": "concurrency is unset and the sidecar has no CPU limit (the pod template's sidecar.istio.io resource annotations)",
		"PS205": "at 70% of app 1 + sidecar 100m",
		"PS301": "headless Service web (clusterIP: None) fronts gRPC port(s) grpc/9090",
		"PS302": "no version label",
		"PS303": "no VirtualService sets retries for gRPC port(s) grpc/9090 of web." + ns,
		"PS305": "DestinationRule web sets no outlier detection",
		"PS401": "namespace " + ns + " has injected workloads but no Sidecar",
		"PS402": "where its traffic needs 5 (no telemetry",
	}
	got := map[string]string{}
	for _, f := range r.Findings {
		got[f.Check] += f.Message + "\n"
		if f.Origin == nil || !f.Origin.Cluster {
			t.Errorf("%s %s: origin %+v, want the cluster", f.Check, f.Object, f.Origin)
		}
	}
	for id, w := range want {
		if !strings.Contains(got[id], w) {
			t.Errorf("%s: findings %q lack %q", id, got[id], w)
		}
	}
	for id := range got {
		if _, ok := want[id]; !ok {
			t.Errorf("unexpected %s: %s", id, got[id])
		}
	}
	// PS402's figures: every service port of the cluster against this
	// namespace's and istio-system's.
	holds := countServicePorts(t, "")
	if !strings.Contains(got["PS402"], fmt.Sprintf("holds %d clusters (no Sidecar applies", holds)) {
		t.Errorf("PS402 %q: want %d clusters held", got["PS402"], holds)
	}
}

func countServicePorts(t *testing.T, ns string) int {
	t.Helper()
	l, err := harness.Client.CoreV1().Services(ns).List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, s := range l.Items {
		n += max(1, len(s.Spec.Ports))
	}
	return n
}

func TestLiveCleanNamespaceHasNoFindings(t *testing.T) {
	setupMesh(t)
	ns := meshNamespace(t, "clean")
	apply(t, "clean.yaml", ns)
	harness.WaitRolledOut(t, ns, "web")
	r := loadLive(t, ns)
	for _, f := range r.Findings {
		t.Errorf("%s %s: %s", f.Check, f.Object, f.Message)
	}
	if r.Objects["Deployment"] != 1 || r.Objects["Sidecar"] < 1 || r.Objects["VirtualService"] != 1 || r.Objects["DestinationRule"] != 1 || r.Objects["Pod"] != 2 {
		t.Errorf("objects read %v: want the fixture's and its 2 pods", r.Objects)
	}
	if !slices.ContainsFunc(r.Inputs, func(s string) bool { return s == "namespace "+ns }) {
		t.Errorf("inputs %v", r.Inputs)
	}
}

// PS402 with telemetry from a real Prometheus: the services web called
// (istio_requests_total, reporter="source", read in one query by
// prom.Destinations) replace the namespace-default guess of what it needs.
func TestLivePS402FromPrometheusTelemetry(t *testing.T) {
	setupMesh(t)
	ns := meshNamespace(t, "telemetry")
	apply(t, "flawed.yaml", ns)
	harness.WaitRolledOut(t, ns, "web")
	created := time.Now()
	exp := promtest.StartExporter(t, func(now time.Time) string {
		n := now.Sub(created).Seconds() * 50
		return fmt.Sprintf("# TYPE istio_requests_total counter\n"+
			"istio_requests_total{reporter=\"source\",source_workload=\"web\",source_workload_namespace=%q,destination_service=\"svc-03.bulk.svc.cluster.local\",pod=\"web-1\"} %g\n"+
			"istio_requests_total{reporter=\"source\",source_workload=\"web\",source_workload_namespace=%q,destination_service=\"PassthroughCluster\",pod=\"web-1\"} %g\n", ns, n, ns, n)
	})
	p := promtest.Start(t, exp.Addr)
	p.WaitForSamples(t, `istio_requests_total`, 2, 30*time.Second)
	time.Sleep(3 * time.Second) // a few samples for increase()
	c, err := prom.New(prom.Config{URL: p.URL})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	dest, err := c.Destinations(ctx, []string{ns}, time.Hour, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	s, err := LoadCluster(ctx, harness.Client, harness.Dynamic, LiveScope{Namespaces: []string{ns}, Telemetry: dest})
	if err != nil {
		t.Fatal(err)
	}
	if c.QueriesSent() != 1 {
		t.Errorf("%d queries for the destinations, want 1", c.QueriesSent())
	}
	r, err := Run(s, Options{Only: []string{"PS402"}})
	if err != nil {
		t.Fatal(err)
	}
	// Needs: istio-system's service ports and svc-03's one port, not web's namespace.
	needs := countServicePorts(t, "istio-system") + 1
	var msg string
	for _, f := range r.Findings {
		msg += f.Message
	}
	if !strings.Contains(msg, fmt.Sprintf("where its traffic needs %d (telemetry: 1 destination service(s) called, and istio-system)", needs)) {
		t.Errorf("PS402 %q: want %d needed from the telemetry", msg, needs)
	}
}
