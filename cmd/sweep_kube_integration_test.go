//go:build integration

package cmd

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	metricsv1beta1 "k8s.io/metrics/pkg/apis/metrics/v1beta1"

	"github.com/proxysizer/proxysizer/cluster"
	"github.com/proxysizer/proxysizer/driver/kube"
	"github.com/proxysizer/proxysizer/internal/kubeharness"
	"github.com/proxysizer/proxysizer/internal/podproxystub"
	"github.com/proxysizer/proxysizer/internal/promtest"
	"github.com/proxysizer/proxysizer/internal/sweeptest"
	"github.com/proxysizer/proxysizer/results"
	"github.com/proxysizer/proxysizer/sizing"
)

// meshDeployment is a Deployment that looks injected: Istio annotations and
// an istio-proxy container beside the app.
func meshDeployment(t *testing.T, ns, name string, replicas int32) map[string]string {
	t.Helper()
	ann := map[string]string{sizing.AnnotationProxyCPU: "100m", sizing.AnnotationProxyCPULimit: "2",
		"proxy.istio.io/config": "terminationDrainDuration: 20s\n", "team": "shop"}
	d := kubeharness.NewDeployment(ns, name, replicas, ann)
	d.Spec.Template.Spec.Containers = append(d.Spec.Template.Spec.Containers, corev1.Container{
		Name: "istio-proxy", Image: "docker.io/istio/proxyv2:1.24.0",
		Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m")}},
	})
	harness.CreateDeployment(t, d)
	return ann
}

// kubeStub is the transport stub of one test: for each load pod its own
// proxysizer load agent in-process (loadgen.Agent, what the pod's `load
// --serve` runs), a target counting requests, and sidecar stats derived
// from them (1 inbound + 2 outbound per request, spread over the pods,
// with the concurrency of the pod's own annotation).
func kubeStub(t *testing.T) (*podproxystub.Stub, *podproxystub.Target) {
	t.Helper()
	target := podproxystub.StartTarget()
	stub := &podproxystub.Stub{}
	t.Cleanup(stub.Close)
	stub.PodExists = func(ns, pod string) bool {
		_, err := harness.Client.CoreV1().Pods(ns).Get(context.Background(), pod, metav1.GetOptions{})
		return err == nil
	}
	stub.EnvoyStats = func(ns, pod string) (string, bool) {
		p, err := harness.Client.CoreV1().Pods(ns).Get(context.Background(), pod, metav1.GetOptions{})
		if err != nil {
			return "", false
		}
		list, err := harness.Client.CoreV1().Pods(ns).List(context.Background(), metav1.ListOptions{LabelSelector: "app=" + p.Labels["app"]})
		if err != nil {
			return "", false
		}
		n := int64(0)
		for _, x := range list.Items {
			if x.DeletionTimestamp == nil {
				n++
			}
		}
		concurrency := 0
		if m := concurrencyLine.FindStringSubmatch(p.Annotations["proxy.istio.io/config"]); m != nil {
			concurrency, _ = strconv.Atoi(m[1])
		}
		in := target.Requests.Load() / max(n, 1)
		return podproxystub.EnvoyText(in, 2*in, concurrency, 30<<20), true
	}
	kube.TransportWrapper = stub.Wrap
	t.Cleanup(func() { kube.TransportWrapper = nil })
	return stub, target
}

// loadPodsLeft counts a sweep's load generator pods, terminating ones too.
func loadPodsLeft(t *testing.T, ns, deployment string) int {
	t.Helper()
	return len(harness.Pods(t, ns, kube.LoadPodSelector(deployment)))
}

// The end-to-end Kubernetes sweep: two settings, patch and rollout on the
// real API server, load from the load agents over the pod-proxy path,
// CPU/throttling/memory from a real Prometheus, requests from the sidecars'
// counters, then restore; run with the RBAC role's token only.
// --dry-run prints each setting's patch and the restoring one, and touches
// nothing: the Deployment keeps its generation and template, no load pod is
// created, and no results directory appears.
func TestSweepKubernetesDryRun(t *testing.T) {
	ns := harness.Namespace(t, "dryrun")
	meshDeployment(t, ns, "web", 1)
	before := harness.Deployment(t, ns, "web")
	dir := filepath.Join(t.TempDir(), "out")
	code, stdout, stderr := run(t, "sweep", "--backend", "kubernetes", "--kubeconfig", harness.Kubeconfig, "-n", ns, "--deployment", "web",
		"--target", "http://web:8080/", "--concurrency", "1,2", "--cpu-limit", "1,none", "--rates", "100", "--out", dir, "--dry-run")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{"step 1: concurrency 1, CPU limit 1", "step 4: concurrency 2, CPU limit none", "kubectl patch deployment web -n " + ns, "restore:", "concurrency: 2", "1 load agent pod(s) (" + kube.DefaultLoadImage(version) + ")"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("dry run output lacks %q:\n%s", want, stdout)
		}
	}
	after := harness.Deployment(t, ns, "web")
	if after.Generation != before.Generation || !reflect.DeepEqual(after.Spec.Template, before.Spec.Template) {
		t.Error("--dry-run changed the Deployment")
	}
	if n := loadPodsLeft(t, ns, "web"); n != 0 {
		t.Errorf("--dry-run created %d load pods", n)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("--dry-run created the results directory: %v", err)
	}
}

func TestSweepKubernetesEndToEnd(t *testing.T) {
	begin := time.Now()
	ns := harness.Namespace(t, "sweep")
	original := meshDeployment(t, ns, "web", 2)
	_, kubeconfig := harness.RBAC(t, rbacFile, ns, "proxysizer")
	stub, target := kubeStub(t)

	rates := promtest.Default
	rates.ProxyCores, rates.Throttled = 0.05, 0
	// The exporter serves cAdvisor series for the Deployment's live pods,
	// counted from each pod's creation, as the kubelet's cAdvisor would.
	exp := promtest.StartExporter(t, func(now time.Time) string {
		list, err := harness.Client.CoreV1().Pods(ns).List(context.Background(), metav1.ListOptions{LabelSelector: "app=web"})
		if err != nil {
			return ""
		}
		// 1 ms of sidecar CPU per request through it (3 per inbound
		// request), on top of 0.05 cores idle, and no throttling: a cost
		// that fit can recover.
		perPod := float64(target.Requests.Load()) / float64(max(len(list.Items), 1))
		var pods []promtest.Pod
		for _, p := range list.Items {
			pods = append(pods, promtest.Pod{Namespace: ns, Name: p.Name, Created: p.CreationTimestamp.Time, ExtraProxyCPU: 0.003 * perPod})
		}
		return promtest.CAdvisorText(pods, rates, "app", now)
	})
	prom := promtest.Start(t, exp.Addr)
	// Prometheus applies its first targets a few seconds after it starts.
	prom.WaitForSamples(t, fmt.Sprintf(`container_cpu_usage_seconds_total{namespace=%q}`, ns), 4, 30*time.Second)
	token := filepath.Join(t.TempDir(), "prom-token")
	const secret = "prom-token-0123456789-never-in-results"
	if err := os.WriteFile(token, []byte(secret), 0o600); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "out")
	journal := filepath.Join(t.TempDir(), "journal.json")
	// 8 connections per generator: on a shared machine the in-process
	// target's replies wait for a CPU (10 ms on average in this test's own
	// latency figures, up to a scheduler period), and the agents' behind
	// gate counts every Poisson arrival that then finds all of a smaller
	// pool busy (4 per generator: 4-6% late at 80 RPS).
	code, stdout, stderr := run(t, "sweep", "--backend", "kubernetes", "--kubeconfig", kubeconfig, "-n", ns, "--deployment", "web",
		"--target", target.URL, "--concurrency", "1,2", "--cpu-limit", "1", "--rates", "40,80", "--duration", "3s", "--warmup", "500ms",
		"--connections", "16", "--load-generators", "2", "--prometheus-url", prom.URL, "--prometheus-token-file", token,
		"--journal", journal, "--out", dir, "--no-progress")
	if code != exitOK {
		t.Fatalf("exit %d\nstdout %s\nstderr %s", code, stdout, stderr)
	}
	rec := sweeptest.Load(t, dir)
	if rec.Backend != "kubernetes" {
		t.Errorf("backend %q, want kubernetes", rec.Backend)
	}
	// The agents make every arrival process; the default is Poisson, as on
	// the local backend.
	if rec.Options.Arrival != "poisson" {
		t.Errorf("arrival %q, want poisson", rec.Options.Arrival)
	}
	if rec.Environment.Cluster == nil {
		t.Fatalf("no cluster in the environment: %+v", rec.Environment)
	}
	if got := rec.Environment.Cluster.ServerVersion; got != kubeharness.Version {
		t.Errorf("server version %q, want the harness's %s", got, kubeharness.Version)
	}
	if got := rec.Environment.Cluster.MetricsSource; !strings.Contains(got, "prometheus") || !strings.Contains(got, "scrape interval 1s from Prometheus' configuration (job kubernetes-cadvisor)") {
		t.Errorf("metrics source %q, want Prometheus with the cadvisor job's 1 s interval", got)
	}
	if !strings.Contains(rec.Proxy.Version, "1.24.0") {
		t.Errorf("proxy version %q, want the template's istio-proxy image 1.24.0", rec.Proxy.Version)
	}
	if len(rec.Steps) != 4 {
		t.Fatalf("%d steps, want 2 settings x 2 rates", len(rec.Steps))
	}
	for _, st := range rec.Steps {
		t.Logf("step %d at %.0f RPS per pod: latency %+v, intended %+v", st.Index, st.RequestedRPS, st.LatencyMs, st.IntendedLatencyMs)
		if st.Status != results.StatusOK {
			t.Errorf("step %d: %s %s", st.Index, st.Status, st.Reason)
			continue
		}
		if wantCores := 0.05 + 0.003*st.RequestedRPS; math.Abs(st.ProxyCPUCores-wantCores) > 0.15*wantCores {
			t.Errorf("step %d: %.4f proxy cores, want %.4f +/- 15%%", st.Index, st.ProxyCPUCores, wantCores)
		}
		if st.ThrottledRatio != 0 {
			t.Errorf("step %d: throttled %.3f, want 0 (the exporter throttles nothing)", st.Index, st.ThrottledRatio)
		}
		if st.MemoryWorkingSetBytes != 64<<20 {
			t.Errorf("step %d: memory %d, want the exporter's 64 MiB", st.Index, st.MemoryWorkingSetBytes)
		}
		if math.Abs(st.ProxyRequestsPerInbound-3) > 0.1 {
			t.Errorf("step %d: %.2f requests per inbound, want 3 (1 in + 2 out)", st.Index, st.ProxyRequestsPerInbound)
		}
		if math.Abs(st.ActualRPS-st.RequestedRPS) > 0.1*st.RequestedRPS {
			t.Errorf("step %d: %.1f of %.0f RPS per pod achieved", st.Index, st.ActualRPS, st.RequestedRPS)
		}
		for _, k := range []string{"cpu", "memory", "throttling", "requests", "envoy_server", "app"} {
			if st.Sources[k] == "" {
				t.Errorf("step %d: no source %q: %v", st.Index, k, st.Sources)
			}
		}
		if strings.Contains(strings.Join(st.Warnings, " "), "worker(s), the setting asks") {
			t.Errorf("step %d: concurrency mismatch: %v", st.Index, st.Warnings)
		}
		// The agents' engine: latency from each call's intended start too,
		// never below the service time, and the schedule gates passed.
		if l := st.IntendedLatencyMs; l == nil || l.P99 < st.LatencyMs.P99 || l.P50 < st.LatencyMs.P50 {
			t.Errorf("step %d: intended latency %+v, service %+v", st.Index, l, st.LatencyMs)
		}
	}
	// 2 generators x 4 steps x (warm-up + measured run).
	if got := stub.AgentRuns.Load(); got != 16 {
		t.Errorf("%d agent runs, want 16", got)
	}
	// Restored exactly, load pods gone, journal marked.
	if got := harness.TemplateAnnotations(t, ns, "web"); !equality.Semantic.DeepEqual(got, original) {
		t.Errorf("annotations after the sweep %v, want %v", got, original)
	}
	if n := loadPodsLeft(t, ns, "web"); n != 0 {
		t.Errorf("%d load pods left", n)
	}
	if j, err := cluster.ReadJournal(journal); err != nil {
		t.Errorf("reading the journal: %v", err)
	} else if j.RestoredAt == nil || len(j.Steps) != 2 {
		t.Errorf("journal restored at %v with %d steps, want restored with the 2 settings", j.RestoredAt, len(j.Steps))
	}
	// The token is nowhere in the results.
	filepath.Walk(dir, func(path string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			if data, _ := os.ReadFile(path); strings.Contains(string(data), secret) {
				t.Errorf("%s holds the Prometheus token", path)
			}
		}
		return nil
	})
	if strings.Contains(stdout+stderr, secret) {
		t.Error("the Prometheus token was printed")
	}
	fitOut := runOK(t, "fit", dir)
	runOK(t, "report", dir)
	t.Logf("fit: %s", firstLines(fitOut, 12))
	t.Logf("end-to-end sweep in %v", time.Since(begin).Round(100*time.Millisecond))
}

// fakePrometheus answers the configuration (1 s scrapes) and then each
// query with empty results, or, with closeAfterConfig, stops listening once
// the configuration has been read: Prometheus gone mid-sweep.
func fakePrometheus(t *testing.T, closeAfterConfig bool) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{ReadHeaderTimeout: 5 * time.Second}
	var once sync.Once
	srv.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if strings.HasSuffix(r.URL.Path, "/status/config") {
			fmt.Fprint(w, `{"status":"success","data":{"yaml":"global:\n  scrape_interval: 1s\n"}}`)
			if closeAfterConfig {
				once.Do(func() { go srv.Close() })
			}
			return
		}
		fmt.Fprint(w, `{"status":"success","data":{"resultType":"vector","result":[]}}`)
	})
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return "http://" + l.Addr().String()
}

// Each fault fails the step with a clear reason, and the Deployment is
// restored and the load pods deleted all the same.
func TestSweepKubernetesFaults(t *testing.T) {
	ns := harness.Namespace(t, "faults")
	_, kubeconfig := harness.RBAC(t, rbacFile, ns, "proxysizer")
	stub, target := kubeStub(t)
	sweepArgs := func(name, prom string, extra ...string) []string {
		args := []string{"sweep", "--backend", "kubernetes", "--kubeconfig", kubeconfig, "-n", ns, "--deployment", name,
			"--target", target.URL, "--concurrency", "2", "--cpu-limit", "1", "--rates", "20", "--duration", "2s", "--warmup", "0s",
			"--connections", "1", "--journal", filepath.Join(t.TempDir(), "journal.json"), "--out", filepath.Join(t.TempDir(), "out"), "--no-progress",
			"--prometheus-url", prom}
		return append(args, extra...)
	}
	outDir := func(args []string) string {
		for i, a := range args {
			if a == "--out" {
				return args[i+1]
			}
		}
		return ""
	}
	check := func(t *testing.T, name string, original map[string]string, args []string, wantReason string, alsoInReason ...string) {
		t.Helper()
		begin := time.Now()
		code, stdout, stderr := run(t, args...)
		if code != exitFailure || !strings.Contains(stderr, "no step of the sweep finished valid") {
			t.Fatalf("exit %d: %s %s", code, stdout, stderr)
		}
		rec := sweeptest.Load(t, outDir(args))
		if st := rec.Steps[0]; st.Status != results.StatusFailed || !strings.Contains(st.Reason, wantReason) {
			t.Errorf("step: %s %q, want failed with %q", st.Status, st.Reason, wantReason)
		}
		for _, want := range alsoInReason {
			if st := rec.Steps[0]; !strings.Contains(st.Reason, want) {
				t.Errorf("step's reason %q lacks %q", st.Reason, want)
			}
		}
		if got := harness.TemplateAnnotations(t, ns, name); !equality.Semantic.DeepEqual(got, original) {
			t.Errorf("annotations %v, want %v", got, original)
		}
		if n := loadPodsLeft(t, ns, name); n != 0 {
			t.Errorf("%d load pods left", n)
		}
		t.Logf("%s: %v", wantReason, time.Since(begin).Round(100*time.Millisecond))
	}

	t.Run("prometheus returns no series", func(t *testing.T) {
		orig := meshDeployment(t, ns, "noseries", 1)
		check(t, "noseries", orig, sweepArgs("noseries", fakePrometheus(t, false)), "no container_cpu_usage_seconds_total series")
	})
	t.Run("prometheus unreachable mid-sweep", func(t *testing.T) {
		orig := meshDeployment(t, ns, "promgone", 1)
		check(t, "promgone", orig, sweepArgs("promgone", fakePrometheus(t, true)), "unreachable")
	})
	t.Run("prometheus unreachable at start", func(t *testing.T) {
		orig := meshDeployment(t, ns, "nostart", 1)
		code, _, stderr := run(t, sweepArgs("nostart", "http://127.0.0.1:1")...)
		if code != exitFailure || !strings.Contains(stderr, "unreachable") {
			t.Errorf("exit %d: %s", code, stderr)
		}
		if got := harness.TemplateAnnotations(t, ns, "nostart"); !equality.Semantic.DeepEqual(got, orig) {
			t.Errorf("annotations %v", got)
		}
	})
	t.Run("load pod never ready", func(t *testing.T) {
		orig := meshDeployment(t, ns, "unready", 1)
		check(t, "unready", orig, sweepArgs("unready", fakePrometheus(t, false), "--load-node-selector", "proxysizer.io/no-such-node=1", "--load-pod-timeout", "3s"),
			"load generator pods not ready within 3s")
	})
	t.Run("rollout times out", func(t *testing.T) {
		orig := meshDeployment(t, ns, "stuck", 1)
		// Room for the app's pod and one load pod, none for the rollout's
		// surge pod: the new ReplicaSet never gets a pod.
		quota := &corev1.ResourceQuota{ObjectMeta: metav1.ObjectMeta{Name: "pods", Namespace: ns},
			Spec: corev1.ResourceQuotaSpec{Hard: corev1.ResourceList{corev1.ResourcePods: resource.MustParse(fmt.Sprint(harness.LivePods(t, ns, "") + 1))}}}
		created, err := harness.Client.CoreV1().ResourceQuotas(ns).Create(context.Background(), quota, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		// The harness runs no resourcequota controller: set the status it
		// would, so that admission counts from here.
		created.Status = corev1.ResourceQuotaStatus{Hard: quota.Spec.Hard, Used: corev1.ResourceList{corev1.ResourcePods: resource.MustParse(fmt.Sprint(harness.LivePods(t, ns, "")))}}
		if _, err := harness.Client.CoreV1().ResourceQuotas(ns).UpdateStatus(context.Background(), created, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
		defer harness.Client.CoreV1().ResourceQuotas(ns).Delete(context.Background(), "pods", metav1.DeleteOptions{})
		check(t, "stuck", orig, sweepArgs("stuck", fakePrometheus(t, false), "--rollout-timeout", "4s"), "rollout of deployment")
	})
	t.Run("a load agent dies mid-run", func(t *testing.T) {
		orig := meshDeployment(t, ns, "agentdies", 1)
		stub.OnAgentRun = func(ns, pod string) {
			time.AfterFunc(300*time.Millisecond, func() { stub.CrashAgent(ns, pod) })
		}
		defer func() { stub.OnAgentRun = nil }()
		check(t, "agentdies", orig, sweepArgs("agentdies", fakePrometheus(t, false)),
			"the API server's pod proxy: error trying to reach service", "load generator pod proxysizer-load-agentdies-")
	})
	t.Run("API server drops the watch", func(t *testing.T) {
		orig := meshDeployment(t, ns, "nowatch", 1)
		stub.DropPodWatches.Store(true)
		defer stub.DropPodWatches.Store(false)
		// Unschedulable load pods, so that only the watch can end the wait
		// before its (long) timeout: kwok may otherwise make them ready
		// before the first list.
		check(t, "nowatch", orig, sweepArgs("nowatch", fakePrometheus(t, false), "--load-node-selector", "proxysizer.io/no-such-node=1", "--load-pod-timeout", "60s"),
			"closed the watch of the load generator pods 3 times")
	})
}

func firstLines(s string, n int) string {
	lines := strings.SplitN(s, "\n", n+1)
	return strings.Join(lines[:min(n, len(lines))], "\n")
}

var concurrencyLine = regexp.MustCompile(`(?m)^concurrency:\s*(\d+)`)

// restricted labels a namespace for the "restricted" Pod Security
// Standard, enforced by the API server's PodSecurity admission.
func restricted(t *testing.T, ns string) {
	t.Helper()
	patch := []byte(`{"metadata":{"labels":{"pod-security.kubernetes.io/enforce":"restricted","pod-security.kubernetes.io/enforce-version":"latest"}}}`)
	if _, err := harness.Client.CoreV1().Namespaces().Patch(context.Background(), ns, types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	// Enforced: a pod that asks for nothing is refused.
	plain := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "plain", Namespace: ns},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "registry.invalid/c:1"}}}}
	if _, err := harness.Client.CoreV1().Pods(ns).Create(context.Background(), plain, metav1.CreateOptions{}); err == nil || !strings.Contains(err.Error(), "violates PodSecurity") {
		t.Fatalf("namespace %s does not enforce the restricted standard: %v", ns, err)
	}
}

// restrictedMeshDeployment is meshDeployment whose pods meet the
// restricted standard.
func restrictedMeshDeployment(t *testing.T, ns, name string) {
	t.Helper()
	d := kubeharness.NewDeployment(ns, name, 1, map[string]string{sizing.AnnotationProxyCPU: "100m"})
	d.Spec.Template.Spec.Containers = append(d.Spec.Template.Spec.Containers, corev1.Container{Name: "istio-proxy", Image: "docker.io/istio/proxyv2:1.24.0"})
	yes, no := true, false
	d.Spec.Template.Spec.SecurityContext = &corev1.PodSecurityContext{RunAsNonRoot: &yes,
		SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault}}
	for i := range d.Spec.Template.Spec.Containers {
		d.Spec.Template.Spec.Containers[i].SecurityContext = &corev1.SecurityContext{AllowPrivilegeEscalation: &no,
			Capabilities: &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}}}
	}
	harness.CreateDeployment(t, d)
}

// stubMetrics serves metrics.k8s.io for the namespace's live pods: 0.1
// cores and 50 MiB per container, sampled now over 1 s.
func stubMetrics(stub *podproxystub.Stub) {
	stub.Metrics = func(ns string) []byte {
		list, err := harness.Client.CoreV1().Pods(ns).List(context.Background(), metav1.ListOptions{})
		if err != nil {
			return nil
		}
		out := metricsv1beta1.PodMetricsList{TypeMeta: metav1.TypeMeta{Kind: "PodMetricsList", APIVersion: "metrics.k8s.io/v1beta1"}}
		for _, p := range list.Items {
			pm := metricsv1beta1.PodMetrics{ObjectMeta: metav1.ObjectMeta{Name: p.Name, Namespace: ns},
				Timestamp: metav1.Now(), Window: metav1.Duration{Duration: time.Second}}
			for _, c := range p.Spec.Containers {
				pm.Containers = append(pm.Containers, metricsv1beta1.ContainerMetrics{Name: c.Name,
					Usage: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m"), corev1.ResourceMemory: resource.MustParse("50Mi")}})
			}
			out.Items = append(out.Items, pm)
		}
		data, _ := json.Marshal(out)
		return data
	}
}

// The schedule verdict comes from the agents, in a namespace that enforces
// the restricted Pod Security Standard (the load pods need no privilege):
// against a Service that answers in 20 ms, 2 connections carry 20 evenly
// spaced RPS on schedule and fall behind at 300 RPS, which only the intended-start
// latency shows; that step is invalid for it, not failed.
func TestSweepKubernetesScheduleVerdict(t *testing.T) {
	ns := harness.Namespace(t, "verdict")
	restricted(t, ns)
	restrictedMeshDeployment(t, ns, "web")
	_, kubeconfig := harness.RBAC(t, rbacFile, ns, "proxysizer")
	stub, target := kubeStub(t)
	stubMetrics(stub)
	target.Delay.Store(int64(20 * time.Millisecond))
	dir := filepath.Join(t.TempDir(), "out")
	code, stdout, stderr := run(t, "sweep", "--backend", "kubernetes", "--kubeconfig", kubeconfig, "-n", ns, "--deployment", "web",
		"--target", target.URL, "--concurrency", "2", "--cpu-limit", "1", "--rates", "20,300", "--duration", "2s", "--warmup", "0s",
		"--connections", "2", "--arrival", "uniform", "--journal", filepath.Join(t.TempDir(), "journal.json"), "--out", dir, "--no-progress")
	if code != exitOK {
		t.Fatalf("exit %d\nstdout %s\nstderr %s", code, stdout, stderr)
	}
	rec := sweeptest.Load(t, dir)
	if len(rec.Steps) != 2 {
		t.Fatalf("%d steps, want 2", len(rec.Steps))
	}
	onTime, behind := rec.Steps[0], rec.Steps[1]
	if onTime.Status != results.StatusOK || onTime.IntendedLatencyMs == nil || onTime.IntendedLatencyMs.P99 > 2*onTime.LatencyMs.P99 {
		t.Errorf("20 RPS: %s %q, p99 %.1f ms service, intended %+v", onTime.Status, onTime.Reason, onTime.LatencyMs.P99, onTime.IntendedLatencyMs)
	}
	if behind.Status != results.StatusInvalid || !strings.Contains(behind.Reason, "behind schedule") ||
		!strings.Contains(behind.Reason, "waited for one of the 2 connections") {
		t.Errorf("300 RPS: %s %q, want invalid: behind schedule, waiting for a connection", behind.Status, behind.Reason)
	}
	if l := behind.IntendedLatencyMs; l == nil || l.P99 < 5*behind.LatencyMs.P99 {
		t.Errorf("300 RPS: p99 %.1f ms service, intended %+v: want the queueing counted", behind.LatencyMs.P99, l)
	}
	if n := loadPodsLeft(t, ns, "web"); n != 0 {
		t.Errorf("%d load pods left", n)
	}
}
