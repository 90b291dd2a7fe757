//go:build integration

package cmd

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/proxysizer/proxysizer/internal/kubeharness"
	"github.com/proxysizer/proxysizer/internal/promtest"
	"github.com/proxysizer/proxysizer/internal/replaytest"
	"github.com/proxysizer/proxysizer/internal/testenv"
)

// replayWorkload creates Deployment web (app 400m, istio-proxy 100m in
// the template) and its HPA on the Resource CPU metric.
func replayWorkload(t *testing.T, ns string, target, minReplicas, maxReplicas int32) {
	t.Helper()
	d := kubeharness.NewDeployment(ns, "web", 2, nil)
	spec := &d.Spec.Template.Spec
	spec.Containers[0].Resources.Requests[corev1.ResourceCPU] = resource.MustParse("400m")
	spec.Containers = append(spec.Containers, corev1.Container{Name: "istio-proxy", Image: "registry.invalid/proxyv2:1.24",
		Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m"), corev1.ResourceMemory: resource.MustParse("128Mi")}}})
	harness.CreateDeployment(t, d)
	hpa := &autoscalingv2.HorizontalPodAutoscaler{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "web"},
		Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
			ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: "web"},
			MinReplicas:    &minReplicas, MaxReplicas: maxReplicas,
			Metrics: []autoscalingv2.MetricSpec{{Type: autoscalingv2.ResourceMetricSourceType, Resource: &autoscalingv2.ResourceMetricSource{
				Name: corev1.ResourceCPU, Target: autoscalingv2.MetricTarget{Type: autoscalingv2.UtilizationMetricType, AverageUtilization: &target}}}},
		},
	}
	if _, err := harness.Client.AutoscalingV2().HorizontalPodAutoscalers(ns).Create(context.Background(), hpa, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// backfill writes each scenario's history and serves it from a real
// Prometheus.
func backfill(t *testing.T, scenarios ...replaytest.Scenario) *promtest.Server {
	t.Helper()
	start := time.Now()
	var files []string
	for i, s := range scenarios {
		dir := filepath.Join(t.TempDir(), "history", string(rune('a'+i)))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		f, err := s.WriteFile(dir)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	p := promtest.StartOnBlocks(t, files...)
	t.Logf("history written, backfilled with promtool and served in %s", time.Since(start).Round(time.Millisecond))
	return p
}

// replayJSON is what the tests read of hpa --replay -o json.
type replayJSON struct {
	Lifecycles      string `json:"pod_lifecycles"`
	PodStartupBasis string `json:"pod_startup_basis"`
	Controller      struct {
		PodStartup string `json:"pod_startup"`
		Version    string `json:"kubernetes_version"`
	} `json:"controller"`
	Sidecar *struct {
		Idle   float64 `json:"idle_millicores"`
		PerApp float64 `json:"per_app_millicore"`
		R2     float64 `json:"r2"`
	} `json:"sidecar_cpu_line"`
	Recommendation struct {
		Target      int32   `json:"target_percent"`
		UsageAware  float64 `json:"usage_aware_target_percent"`
		FromHistory bool    `json:"sidecar_from_history"`
	} `json:"recommendation"`
	Runs []struct {
		Name      string   `json:"name"`
		Metric    string   `json:"metric"`
		Differing float64  `json:"minutes_differing"`
		Above     float64  `json:"minutes_above_reference"`
		Below     float64  `json:"minutes_below_reference"`
		Extra     float64  `json:"extra_pod_minutes"`
		Late      *float64 `json:"first_scale_up_minutes_after_reference"`
	} `json:"runs"`
	Syncs []struct {
		At          time.Time `json:"at"`
		Observed    int       `json:"observed_ready_pods"`
		Current     int32     `json:"current"`
		Recommended int32     `json:"recommended"`
		Reference   int32     `json:"reference"`
	} `json:"syncs"`
	Reading string            `json:"reading"`
	Queries map[string]string `json:"queries"`
}

func parseReplay(t *testing.T, out string) replayJSON {
	t.Helper()
	var r replayJSON
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("%v\n%.2000s", err, out)
	}
	return r
}

// The Stairs history worked by hand (hpareplay's TestReplayStairsByHand
// has the derivation): the reference and the recommended target (46%)
// scale to 3 at 2:15, the unadjusted 50% at 5:15, 3 minutes late, and all
// come back to 2 at 20:15. Here through the whole command: the HPA and the
// Deployment from the control plane, the history from a real Prometheus
// (promtool backfill), once with kube-state-metrics' pod series and once
// without.
func TestHPAReplayStairsEndToEnd(t *testing.T) {
	withKSM, without := harness.Namespace(t, "replay"), harness.Namespace(t, "replay")
	for _, ns := range []string{withKSM, without} {
		replayWorkload(t, ns, 50, 2, 10)
	}
	a, b := replaytest.Stairs(true), replaytest.Stairs(false)
	a.Namespace, b.Namespace = withKSM, without
	p := backfill(t, a, b)
	_, kubeconfig := harness.RBAC(t, rbacFile, withKSM, "proxysizer")
	_, kubeconfigB := harness.RBAC(t, rbacFile, without, "proxysizer")
	end := replaytest.StairsStart.Add(30 * time.Minute).Format(time.RFC3339)
	args := func(kc, ns string, extra ...string) []string {
		return append([]string{"hpa", "web", "--kubeconfig", kc, "-n", ns, "--replay", "--prometheus-url", p.URL,
			"--replay-end", end, "--replay-window", "30m", "--replay-rate-window", "20s"}, extra...)
	}
	page := filepath.Join(t.TempDir(), "replay.html")
	for _, c := range []struct {
		ns, kubeconfig, lifecycles string
	}{{withKSM, kubeconfig, "kube-state-metrics"}, {without, kubeconfigB, "inferred from each pod's first and last CPU sample"}} {
		start := time.Now()
		extra := []string{"-o", "json"}
		if c.ns == withKSM {
			extra = append(extra, "--replay-out", page)
		}
		r := parseReplay(t, runOK(t, args(c.kubeconfig, c.ns, extra...)...))
		t.Logf("%s: hpa --replay -o json took %s", c.lifecycles, time.Since(start).Round(time.Millisecond))
		if r.Lifecycles != c.lifecycles || r.Controller.PodStartup != "30s" || !strings.HasPrefix(r.PodStartupBasis, "assumed") || r.Controller.Version != "1.33.4" {
			t.Errorf("lifecycles %q, start-up %s (%s), version %s", r.Lifecycles, r.Controller.PodStartup, r.PodStartupBasis, r.Controller.Version)
		}
		if r.Sidecar == nil || r.Sidecar.Idle < 29.999 || r.Sidecar.Idle > 30.001 || r.Recommendation.Target != 46 || !r.Recommendation.FromHistory {
			t.Fatalf("sidecar line %+v, recommendation %+v: want a flat 30m and 46%%", r.Sidecar, r.Recommendation)
		}
		if len(r.Syncs) != 120 {
			t.Fatalf("%d syncs, want 120", len(r.Syncs))
		}
		for k, s := range r.Syncs {
			at := time.Duration(k+1) * 15 * time.Second
			ref, cur := int32(2), int32(2)
			if at >= 135*time.Second && at <= 20*time.Minute {
				ref = 3
			}
			if at >= 315*time.Second && at <= 20*time.Minute {
				cur = 3
			}
			if !s.At.Equal(replaytest.StairsStart.Add(at)) || s.Observed != 2 || s.Reference != ref || s.Recommended != ref || s.Current != cur {
				t.Errorf("sync at %s: %+v, want observed 2, reference and recommended %d, current %d", at, s, ref, cur)
			}
		}
		cur := r.Runs[0]
		if cur.Differing != 3 || cur.Below != 3 || cur.Above != 0 || cur.Late == nil || *cur.Late != 3 || r.Runs[1].Differing != 0 {
			t.Errorf("runs %+v", r.Runs)
		}
		if !strings.Contains(r.Queries["cpu"], `rate(container_cpu_usage_seconds_total{namespace="`+c.ns+`",pod=~"web-`) {
			t.Errorf("cpu query %s", r.Queries["cpu"])
		}
	}

	table := runOK(t, args(kubeconfig, withKSM)...)
	for _, want := range []string{
		"HPA " + withKSM + "/web -> deployment web: replayed from 2026-01-05T10:00:00Z to 2026-01-05T10:30:00Z, 120 syncs",
		"current             Resource cpu at 50%",
		"2026-01-05T10:02:15Z  2               2*       3            3",
		"its first scale-up came 3 min after the reference's",
	} {
		if !strings.Contains(table, want) {
			t.Errorf("table lacks %q:\n%s", want, table)
		}
	}
	t.Logf("the table:\n%s", table)
	csv := runOK(t, args(kubeconfig, withKSM, "-o", "csv")...)
	lines := strings.Split(strings.TrimSpace(csv), "\n")
	if len(lines) != 121 || lines[0] != "at,observed_ready_pods,current,recommended,reference" || lines[21] != "2026-01-05T10:05:15Z,2,3,3,3" {
		t.Errorf("csv: %d lines, header %q, line 21 %q", len(lines), lines[0], lines[21])
	}
	checkPageInChromium(t, page, "hpa-replay-stairs.png", 4)
}

// A day of a Deployment under its HPA (Resource cpu at 60%), its pods
// coming and going as the controller's algorithm drove them on a daily
// load, the sidecar's CPU a noisy line in the app's: through the command
// with the defaults (a day's window, 15 s steps, rate over 1 min).
func TestHPAReplayDayEndToEnd(t *testing.T) {
	// A fixed name, as the README's picture of this run shows it.
	ns := namespaceWithout(t, "shop", "web")
	replayWorkload(t, ns, replaytest.DayTarget, replaytest.DayMinReplicas, replaytest.DayMaxReplicas)
	s, truth, err := replaytest.Day(ns, 7)
	if err != nil {
		t.Fatal(err)
	}
	p := backfill(t, s)
	_, kubeconfig := harness.RBAC(t, rbacFile, ns, "proxysizer")
	page := filepath.Join(t.TempDir(), "replay.html")
	args := []string{"hpa", "web", "--kubeconfig", kubeconfig, "-n", ns, "--replay", "--prometheus-url", p.URL,
		"--replay-end", replaytest.DayStart.Add(24 * time.Hour).Format(time.RFC3339), "--replay-out", page}
	start := time.Now()
	r := parseReplay(t, runOK(t, append(args, "-o", "json")...))
	t.Logf("hpa --replay -o json over a day took %s", time.Since(start).Round(time.Millisecond))
	if len(r.Syncs) != len(truth.Decisions) {
		t.Fatalf("%d syncs, want %d", len(r.Syncs), len(truth.Decisions))
	}
	// The pods observed ready: kube-state-metrics' Ready as its last scrape
	// (every 30 s) saw it, and no deletion timestamp passed (its value is
	// the time of the deletion, read back to the step it passed).
	wrongObserved, sameAsTruth := 0, 0
	for i, sync := range r.Syncs {
		scrape := replaytest.DayStart.Add(sync.At.Sub(replaytest.DayStart) / (30 * time.Second) * (30 * time.Second))
		want := 0
		for _, pod := range s.Pods {
			if !pod.Ready.After(scrape) && (pod.Deleting.IsZero() || sync.At.Before(pod.Deleting)) && !pod.Started.After(scrape) {
				want++
			}
		}
		if sync.Observed != want {
			wrongObserved++
			if wrongObserved < 5 {
				t.Errorf("at %s: %d pods observed ready, want %d", sync.At.Format(time.RFC3339), sync.Observed, want)
			}
		}
		if sync.Current == truth.Decisions[i].Replicas {
			sameAsTruth++
		}
	}
	if wrongObserved > 0 {
		t.Errorf("%d of %d syncs observed the wrong number of ready pods", wrongObserved, len(r.Syncs))
	}
	// New pods turn Ready 40 s after the scale-up; kube-state-metrics sees
	// it at its next scrape, 45 s or 60 s after a start on the 15 s grid.
	if r.Controller.PodStartup != "45s" && r.Controller.PodStartup != "52.5s" && r.Controller.PodStartup != "1m0s" || !strings.HasPrefix(r.PodStartupBasis, "measured") {
		t.Errorf("pod start-up %s (%s), want 45-60 s measured", r.Controller.PodStartup, r.PodStartupBasis)
	}
	// The sidecar's line: 30m + 0.26 x the app's, with 5% noise. R² about
	// 0.85: the app's CPU per pod spreads by some 35m (0.26 x 35 = 9m of
	// sidecar), the noise by 5% of some 75m (3.7m): 9² / (9² + 3.7²).
	if f := r.Sidecar; f == nil || f.Idle < 27 || f.Idle > 33 || f.PerApp < 0.25 || f.PerApp > 0.27 || f.R2 < 0.75 || f.R2 > 0.95 {
		t.Errorf("sidecar line %+v, want 30m + 0.26 x the app's", f)
	}
	// (240 + 30 + 0.26 x 240) / 500 = 66.5%: 66.
	if r.Recommendation.Target != 66 {
		t.Errorf("recommended target %d%% (usage-aware %.1f%%), want 66%%", r.Recommendation.Target, r.Recommendation.UsageAware)
	}
	// The current run replays the HPA the day ran under, on the load read
	// back from Prometheus (noisy, averaged over 1 min): it keeps to the
	// decisions that made the day at nearly every sync.
	if share := float64(sameAsTruth) / float64(len(r.Syncs)); share < 0.9 {
		t.Errorf("the current run agrees with the day's own decisions at %.1f%% of the syncs, want >= 90%%", 100*share)
	} else {
		t.Logf("the current run agrees with the day's own decisions at %d of %d syncs", sameAsTruth, len(r.Syncs))
	}
	// The sidecar's CPU is more than its share of the requests (30m + 0.26 x
	// the app's against 100m/400m = 0.25): the unadjusted 60% is read with
	// the app below its own 60%, the HPA scales early and runs more pods,
	// never fewer. The recommended 66% is read with the app at its 240m, so
	// it keeps to the reference on the whole; away from the target the
	// sidecar's idle 30m, which does not grow with the load, moves the
	// proposals by a pod either way: as many minutes above as below.
	cur, rec := r.Runs[0], r.Runs[1]
	if cur.Extra <= 0 || cur.Below != 0 || cur.Above < 60 {
		t.Errorf("current run %+v: want more pods than the reference for over an hour, never fewer", cur)
	}
	if rec.Differing > cur.Differing/2 || math.Abs(rec.Extra) > cur.Extra/10 {
		t.Errorf("recommended run %+v: want under half the current's %.0f min and a tenth of its %+.0f pod-minutes", rec, cur.Differing, cur.Extra)
	}
	t.Logf("current: %.0f min differing (%.0f above, %.0f below, %+.0f pod-minutes); recommended: %.0f min (%.0f above, %.0f below, %+.0f)",
		cur.Differing, cur.Above, cur.Below, cur.Extra, rec.Differing, rec.Above, rec.Below, rec.Extra)
	t.Logf("reading: %s", r.Reading)
	table := runOK(t, args[:len(args)-2]...)
	t.Logf("the table:\n%s", table)
	checkPageInChromium(t, page, "hpa-replay.png", 4)
}

// namespaceWithout creates namespace ns, or takes it as another test of
// this binary left it (the capacity fixture's shop), without Deployment
// and HPA name.
func namespaceWithout(t *testing.T, ns, name string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c := harness.Client
	if _, err := c.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	if err := c.AutoscalingV2().HorizontalPodAutoscalers(ns).Delete(ctx, name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
		t.Fatal(err)
	}
	if err := c.AppsV1().Deployments(ns).Delete(ctx, name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
		t.Fatal(err)
	}
	for {
		_, err := c.AppsV1().Deployments(ns).Get(ctx, name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return ns
		}
		select {
		case <-ctx.Done():
			t.Fatalf("deployment %s/%s still there: %v (%v)", ns, name, err, ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// checkPageInChromium loads the replay page in headless Chromium (no
// network), checks that both charts drew every series with points, and
// takes a screenshot into $PROXYSIZER_TEST_OUT (else testdata/out/).
func checkPageInChromium(t *testing.T, page, shot string, wantSeries int) {
	t.Helper()
	chromium := testenv.RequireChromium(t)
	_, got := chromium.Load(t, page)
	if got.ECharts == "" || len(got.Errors) > 0 || len(got.Charts) != 2 || got.Charts[0].ID != "chart-replicas" || len(got.Charts[0].Series) != wantSeries {
		t.Fatalf("render check %+v", got)
	}
	for _, c := range got.Charts {
		for _, s := range c.Series {
			if s.Points == 0 {
				t.Errorf("%s: series %q drew no points", c.ID, s.Name)
			}
		}
	}
	chromium.Screenshot(t, page, shot, 1300, 1240, 30_000)
}
