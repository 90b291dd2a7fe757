//go:build integration

package hpae2e

import (
	"context"
	"fmt"
	"math"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/tools/cache"
	watchtools "k8s.io/client-go/tools/watch"

	"github.com/proxysizer/proxysizer/hpasim"
	"github.com/proxysizer/proxysizer/internal/kubeharness"
	"github.com/proxysizer/proxysizer/sizing"
)

var harness *kubeharness.Harness

func TestMain(m *testing.M) {
	a := kubeharness.TestAutoscaling()
	os.Exit(kubeharness.RunTestsWith(m, &harness, kubeharness.Options{Autoscaling: &a}))
}

// The workload: an app container requesting 400m and an istio-proxy
// requesting 100m, whose CPU is half the app's (both grow with the
// requests served). The app-only HPA targets 50%: the app at 200m.
const (
	appRequest     = 400
	sidecarRequest = 100
	sidecarPerApp  = 0.5
	appTarget      = 50
	minReplicas    = 2
	maxReplicas    = 8
)

// phase is a total app CPU demand (millicores, spread over the ready pods,
// as a Service spreads requests) held for a while.
type phase struct {
	demand int64
	hold   time.Duration
}

// The phases, and where each HPA settles. Per pod the app uses a =
// demand/n and the sidecar a/2, so the pod's utilisation is (a + a/2) /
// 500 = 0.3a% and the app's alone a/400 = 0.25a%.
//
//	demand 400, n=2, a=200: the app is at its target (50%). App-only: 50%,
//	  stays at 2. Unadjusted (Resource 50%): 60%, ratio 1.2 > 1.1:
//	  ceil(2 x 1.2) = 3, early; at 3 pods a=133, 40% (0.8): ceil(2.4) = 3.
//	  Recommended (Resource 60%): 60/60 = 1.0, stays at 2.
//	demand 500, n=2, a=250: app-only 62% (1.24): ceil(2.48) = 3; at 3,
//	  a=167, 41%: ceil(2.46) = 3. Recommended: 75/60 = 1.25: 3; at 3, 50/60:
//	  ceil(2.5) = 3. Unadjusted already at 3: 50%, stays.
//	demand 1000, n=3, a=333: app-only 83% (1.66): ceil(4.98) = 5; at 5,
//	  a=200: 50%, stays. Recommended 100/60: ceil(5.0) = 5; at 5: 60/60.
//	  Unadjusted 100/50 = 2.0: 6; at 6, a=167: 50%, stays: one pod more.
//	demand 300: all fall to minReplicas once the 25 s scale-down window has
//	  passed (app-only at 5: a=60, 15%: ceil(1.5) = 2).
var phases = []phase{{400, 40 * time.Second}, {500, 40 * time.Second}, {1000, 45 * time.Second}, {300, 55 * time.Second}}

// appOnlyReplicas is where the app-only HPA settles in each phase.
var appOnlyReplicas = []int32{2, 3, 5, 2}

type hpaCase struct {
	name   string
	metric func(t *testing.T) autoscalingv2.MetricSpec
	// want is where the controller settles in each phase.
	want []int32
	// behavior, when set, takes the HPA off the legacy path onto the
	// behavior policies (run with the regular sidecar only).
	behavior *autoscalingv2.HorizontalPodAutoscalerBehavior
}

var hpaCases = []hpaCase{
	// (a) the app's target left unchanged on the Resource metric: the
	// sidecar's CPU counts, the HPA scales early and holds one pod more.
	{"unadjusted", func(*testing.T) autoscalingv2.MetricSpec { return resourceMetric(appTarget) }, []int32{3, 3, 6, 2}, nil},
	// (b) proxysizer's recommended target on the Resource metric.
	{"recommended", func(t *testing.T) autoscalingv2.MetricSpec { return resourceMetric(recommendedTarget(t)) }, appOnlyReplicas, nil},
	// (c) ContainerResource on the app at its own target.
	{"containerresource", func(*testing.T) autoscalingv2.MetricSpec { return containerMetric("app", appTarget) }, appOnlyReplicas, nil},
	// (b) again with a behavior adding at most one pod per 15 s: 3 -> 4 -> 5
	// in the third phase, 15 s apart; the scale-down rules are the API
	// server's defaults with the controller's window. For the replay's
	// policies path.
	{"recommended-oneup", func(t *testing.T) autoscalingv2.MetricSpec { return resourceMetric(recommendedTarget(t)) }, appOnlyReplicas,
		&autoscalingv2.HorizontalPodAutoscalerBehavior{ScaleUp: &autoscalingv2.HPAScalingRules{
			Policies: []autoscalingv2.HPAScalingPolicy{{Type: autoscalingv2.PodsScalingPolicy, Value: 1, PeriodSeconds: 15}}}}},
}

// recommendedTarget is proxysizer's HPA target for this pod: sizing's HPA
// core on the pod's requests and the app's target, with the sidecar's CPU
// as the line it follows here (half the app's). The test's one call into
// sizing.
func recommendedTarget(t *testing.T) int32 {
	t.Helper()
	h, err := sizing.RecalculateHPA(sizing.PodHPA{
		AppCPURequestMillicores:     appRequest,
		SidecarCPURequestMillicores: sidecarRequest,
		SidecarCPURequestSource:     "the pod template",
		TargetPercent:               appTarget,
		AppContainer:                "app",
		SidecarCPU:                  sizing.SidecarCPUAtTarget{PerAppMillicore: sidecarPerApp, Basis: "measured: half the app's CPU"},
	})
	if err != nil {
		t.Fatal(err)
	}
	// (200 + 100) / (400 + 100) = 60%; the unchanged 50% is read with the
	// app at 250 / 1.5 = 166.7m, before its own target of 200m.
	if h.ManifestTargetPercent != 60 || h.AppCPUAtTarget.Original != 200 || h.AppCPUAtTarget.UnchangedTarget != 166.7 || h.AppCPUAtTarget.ManifestTarget != 200 {
		t.Fatalf("sizing: target %d%%, app CPU at the targets %+v; want 60%%, original 200m, unchanged 166.7m, manifest 200m", h.ManifestTargetPercent, h.AppCPUAtTarget)
	}
	return h.ManifestTargetPercent
}

func resourceMetric(target int32) autoscalingv2.MetricSpec {
	return autoscalingv2.MetricSpec{Type: autoscalingv2.ResourceMetricSourceType, Resource: &autoscalingv2.ResourceMetricSource{
		Name: corev1.ResourceCPU, Target: autoscalingv2.MetricTarget{Type: autoscalingv2.UtilizationMetricType, AverageUtilization: &target}}}
}

func containerMetric(container string, target int32) autoscalingv2.MetricSpec {
	return autoscalingv2.MetricSpec{Type: autoscalingv2.ContainerResourceMetricSourceType, ContainerResource: &autoscalingv2.ContainerResourceMetricSource{
		Name: corev1.ResourceCPU, Container: container, Target: autoscalingv2.MetricTarget{Type: autoscalingv2.UtilizationMetricType, AverageUtilization: &target}}}
}

// TestHPAOnTheRealController runs each case for both sidecar forms at
// once (each in its own namespace, against the one controller: running
// them one after the other would take six times as long), then checks each.
func TestHPAOnTheRealController(t *testing.T) {
	t0 := time.Now()
	type named struct {
		name string
		c    hpaCase
		run  *caseRun
	}
	var runs []named
	var wg sync.WaitGroup
	for _, native := range []bool{false, true} {
		for _, c := range hpaCases {
			if native && c.behavior != nil {
				continue
			}
			form := "sidecar"
			if native {
				form = "native"
			}
			n := named{name: form + "/" + c.name, c: c, run: &caseRun{native: native, rec: NewRecorder(), ready: map[string]bool{}}}
			n.run.ns = harness.Namespace(t, "hpa-"+c.name)
			n.run.metric, n.run.behavior = c.metric(t), c.behavior
			runs = append(runs, n)
			wg.Add(1)
			go func() { defer wg.Done(); n.run.run() }()
		}
	}
	wg.Wait()
	t.Logf("all cases ran in %s", time.Since(t0).Round(time.Second))
	for _, n := range runs {
		t.Run(n.name, func(t *testing.T) { n.run.check(t, n.c) })
	}
}

// workload is a Deployment of app + istio-proxy; native puts the proxy in
// an init container with restartPolicy Always, and tells kwok to report
// its CPU as sidecarPerApp x the app's.
func workload(ns string, native bool) *appsv1.Deployment {
	d := kubeharness.NewDeployment(ns, "web", minReplicas, nil)
	spec := &d.Spec.Template.Spec
	spec.Containers[0].Resources.Requests[corev1.ResourceCPU] = resource.MustParse(fmt.Sprintf("%dm", appRequest))
	proxy := corev1.Container{Name: "istio-proxy", Image: "registry.invalid/proxyv2:1",
		Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(fmt.Sprintf("%dm", sidecarRequest))}}}
	if !native {
		spec.Containers = append(spec.Containers, proxy)
		return d
	}
	always := corev1.ContainerRestartPolicyAlways
	proxy.RestartPolicy = &always
	spec.InitContainers = []corev1.Container{proxy}
	d.Spec.Template.Annotations = map[string]string{
		kubeharness.NativeSidecarAnnotation:        "istio-proxy",
		kubeharness.NativeSidecarFollowsAnnotation: "app",
		kubeharness.NativeSidecarRatioAnnotation:   fmt.Sprint(sidecarPerApp),
	}
	return d
}

// caseRun is one HPA under test and what is recorded of it.
type caseRun struct {
	ns       string
	native   bool
	metric   autoscalingv2.MetricSpec
	behavior *autoscalingv2.HorizontalPodAutoscalerBehavior
	rec      *Recorder

	// filled by run
	failed  []string // what went wrong while it ran
	spec    autoscalingv2.HorizontalPodAutoscalerSpec
	settled []int32 // status.desiredReplicas at the end of each phase
	syncs   []ControllerSync

	mu     sync.Mutex
	demand int64
	ready  map[string]bool
	lastN  int
	lastD  int64
	status []statusSeen
}

func (r *caseRun) fail(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.failed = append(r.failed, fmt.Sprintf(format, args...))
}

// statusSeen is a status.desiredReplicas the HPA was seen with.
type statusSeen struct {
	at      time.Time
	desired int32
}

// run drives the HPA through the phases and records what the controller
// saw and did; failures go to r.failed (it runs beside the other cases).
func (r *caseRun) run() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	r.demand = phases[0].demand
	r.mu.Lock()
	r.setUsage(ctx, minReplicas)
	r.mu.Unlock()

	watchCtx, stopWatching := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(3)
	go func() { defer wg.Done(); r.watchPods(watchCtx) }()
	go func() { defer wg.Done(); r.pollMetrics(watchCtx) }()
	go func() { defer wg.Done(); r.watchHPA(watchCtx) }()
	defer func() { stopWatching(); wg.Wait() }()

	if err := r.createAndWait(ctx); err != nil {
		r.fail("%v", err)
		return
	}
	r.settled = make([]int32, len(phases))
	for i, p := range phases {
		r.setDemand(ctx, p.demand)
		time.Sleep(p.hold)
		got, err := harness.Client.AutoscalingV2().HorizontalPodAutoscalers(r.ns).Get(ctx, "web", metav1.GetOptions{})
		if err != nil {
			r.fail("reading the HPA: %v", err)
			return
		}
		r.settled[i] = got.Status.DesiredReplicas
	}
	if err := harness.Client.AutoscalingV2().HorizontalPodAutoscalers(r.ns).Delete(ctx, "web", metav1.DeleteOptions{}); err != nil {
		r.fail("deleting the HPA: %v", err)
		return
	}
	time.Sleep(harness.Autoscaling.Controller.SyncPeriod) // let a sync in flight finish its log lines
	stopWatching()
	wg.Wait()
	var err error
	if r.syncs, err = r.controllerSyncs(); err != nil {
		r.fail("%v", err)
	}
}

// createAndWait creates the Deployment, waits until metrics.k8s.io has
// every container of its pods, then creates the HPA: so no sync fails for
// want of metrics.
func (r *caseRun) createAndWait(ctx context.Context) error {
	d := workload(r.ns, r.native)
	if _, err := harness.Client.AppsV1().Deployments(r.ns).Create(ctx, d, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("creating the deployment: %w", err)
	}
	if err := wait.PollUntilContextTimeout(ctx, 500*time.Millisecond, 90*time.Second, true, func(context.Context) (bool, error) {
		return r.rec.HasMetrics("app", "istio-proxy") && r.readyPods() == minReplicas, nil
	}); err != nil {
		return fmt.Errorf("no metrics for the pods' containers within 90 s: %w", err)
	}
	hpa := &autoscalingv2.HorizontalPodAutoscaler{
		ObjectMeta: metav1.ObjectMeta{Namespace: r.ns, Name: "web"},
		Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
			ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: "web"},
			MinReplicas:    ptr(int32(minReplicas)), MaxReplicas: maxReplicas,
			Metrics:  []autoscalingv2.MetricSpec{r.metric},
			Behavior: r.behavior,
		},
	}
	created, err := harness.Client.AutoscalingV2().HorizontalPodAutoscalers(r.ns).Create(ctx, hpa, metav1.CreateOptions{})
	if err != nil {
		return fmt.Errorf("creating the HPA: %w", err)
	}
	r.spec = created.Spec
	return nil
}

func (r *caseRun) readyPods() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.ready)
}

// check asserts what the run recorded.
func (r *caseRun) check(t *testing.T, c hpaCase) {
	for _, f := range r.failed {
		t.Error(f)
	}
	if len(r.syncs) == 0 || r.settled == nil {
		t.FailNow()
	}
	history := r.rec.History(minReplicas, harness.Autoscaling.MetricResolution)
	replayed := r.replay(t, r.spec, history)
	t.Logf("%d syncs, %d pods; settled per phase %v", len(r.syncs), len(history.Pods), r.settled)

	// The controller against the formula: where it settles in each phase.
	if !equalInt32(r.settled, c.want) {
		t.Errorf("the controller settled at %v in the phases, the formula gives %v", r.settled, c.want)
	}
	if c.name != "unadjusted" && !equalInt32(r.settled, appOnlyReplicas) {
		t.Errorf("%s settled at %v, the app-only HPA at %v", c.name, r.settled, appOnlyReplicas)
	}
	if c.name == "unadjusted" && equalInt32(r.settled, appOnlyReplicas) {
		t.Errorf("the unadjusted target settled where the app-only HPA does (%v): the sidecar made no difference", r.settled)
	}
	r.checkReplay(t, replayed)
	r.checkStatus(t)
	r.checkSensitivity(t, history, replayed)
	// The app-only reference replayed on the same history: the pods without
	// the sidecar, the Resource metric at the app's target.
	ref := r.replay(t, autoscalingv2.HorizontalPodAutoscalerSpec{MinReplicas: ptr(int32(minReplicas)), MaxReplicas: maxReplicas,
		Metrics: []autoscalingv2.MetricSpec{resourceMetric(appTarget)}}, history.Without("istio-proxy"))
	diff := hpasim.Disagreements(replayed, ref)
	if c.behavior != nil {
		r.checkScaleUpLimited(t, replayed)
	}
	if c.name == "containerresource" && len(diff) > 0 {
		// ContainerResource reads exactly what the app-only pod does.
		t.Errorf("ContainerResource and the app-only reference disagree at %d syncs: %s", len(diff), strings.Join(diff, "; "))
	}
	t.Logf("syncs where %s and the app-only reference disagree: %d of %d", c.name, len(diff), len(replayed))
}

// setUsage sets each container's CPU for n ready pods at the current
// demand (a Service spreads requests over the ready pods). r.mu is held.
func (r *caseRun) setUsage(ctx context.Context, n int) {
	app := int64(math.Round(float64(r.demand) / float64(max(n, 1))))
	usage := map[string]int64{"app": app}
	if !r.native {
		// kwok reports the native sidecar itself, at sidecarPerApp x app
		usage["istio-proxy"] = int64(math.Round(sidecarPerApp * float64(app)))
	}
	if err := harness.SetCPUUsage(ctx, r.ns, usage); err != nil && ctx.Err() == nil {
		r.failed = append(r.failed, err.Error()) // r.mu is held
	}
	r.lastN, r.lastD = n, r.demand
}

func (r *caseRun) setDemand(ctx context.Context, d int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.demand = d
	r.setUsage(ctx, len(r.ready))
}

// watchPods records every pod change and keeps the usage spread over the
// ready pods.
func (r *caseRun) watchPods(ctx context.Context) {
	list, err := harness.Client.CoreV1().Pods(r.ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		r.fail("listing pods: %v", err)
		return
	}
	w, err := watchtools.NewRetryWatcherWithContext(ctx, list.ResourceVersion, &cache.ListWatch{
		WatchFunc: func(o metav1.ListOptions) (watch.Interface, error) {
			return harness.Client.CoreV1().Pods(r.ns).Watch(ctx, o)
		},
	})
	if err != nil {
		r.fail("watching pods: %v", err)
		return
	}
	defer w.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-w.ResultChan():
			if !ok {
				return
			}
			p, ok := ev.Object.(*corev1.Pod)
			if !ok {
				continue
			}
			now := time.Now()
			r.rec.Pod(p, now, ev.Type == watch.Deleted)
			r.mu.Lock()
			ready := ev.Type != watch.Deleted && p.DeletionTimestamp == nil && podReady(p)
			if ready {
				r.ready[p.Name] = true
			} else {
				delete(r.ready, p.Name)
			}
			if len(r.ready) != r.lastN || r.demand != r.lastD {
				r.setUsage(ctx, len(r.ready))
			}
			r.mu.Unlock()
		}
	}
}

func podReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// pollMetrics lists the namespace's pod metrics every second: metrics-server
// changes them once per resolution (10 s), so every scrape is seen.
func (r *caseRun) pollMetrics(ctx context.Context) {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		list, err := harness.Metrics.MetricsV1beta1().PodMetricses(r.ns).List(ctx, metav1.ListOptions{})
		if err == nil {
			r.rec.PodMetrics(list.Items)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// watchHPA records the HPA's status.desiredReplicas as it changes.
func (r *caseRun) watchHPA(ctx context.Context) {
	list, err := harness.Client.AutoscalingV2().HorizontalPodAutoscalers(r.ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		r.fail("listing HPAs: %v", err)
		return
	}
	w, err := watchtools.NewRetryWatcherWithContext(ctx, list.ResourceVersion, &cache.ListWatch{
		WatchFunc: func(o metav1.ListOptions) (watch.Interface, error) {
			return harness.Client.AutoscalingV2().HorizontalPodAutoscalers(r.ns).Watch(ctx, o)
		},
	})
	if err != nil {
		r.fail("watching the HPA: %v", err)
		return
	}
	defer w.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-w.ResultChan():
			if !ok {
				return
			}
			if h, ok := ev.Object.(*autoscalingv2.HorizontalPodAutoscaler); ok && ev.Type == watch.Modified {
				r.mu.Lock()
				r.status = append(r.status, statusSeen{at: time.Now(), desired: h.Status.DesiredReplicas})
				r.mu.Unlock()
			}
		}
	}
}

// controllerSyncs reads this HPA's syncs from kube-controller-manager's log.
func (r *caseRun) controllerSyncs() ([]ControllerSync, error) {
	f, err := os.Open(harness.ComponentLog("kube-controller-manager"))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	syncs, err := ParseControllerLog(f, r.ns, "web", "web", time.Now().UTC().Year())
	if err != nil {
		return nil, err
	}
	if len(syncs) < 20 {
		return nil, fmt.Errorf("only %d syncs of %s/web in the controller's log", len(syncs), r.ns)
	}
	return syncs, nil
}

// replay runs hpasim at the controller's own sync instants, each reading
// the scrape the controller logged reading.
func (r *caseRun) replay(t *testing.T, spec autoscalingv2.HorizontalPodAutoscalerSpec, h hpasim.History) []hpasim.Decision {
	in := make([]hpasim.Sync, len(r.syncs))
	for i, s := range r.syncs {
		in[i] = hpasim.Sync{At: s.At, MetricsAt: s.MetricsAt}
	}
	d, err := hpasim.Replay(harness.Autoscaling.Controller, spec, h, in)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// checkReplay asserts that the replay decided as the controller did at
// every sync: the metrics' proposal and the replicas it settled on.
func (r *caseRun) checkReplay(t *testing.T, replayed []hpasim.Decision) {
	status := int32(0)
	bad := 0
	for i, s := range r.syncs {
		want := s.Desired
		if want < 0 { // failed: the status kept its value
			want = status
		}
		status = want
		d := replayed[i]
		if d.DesiredReplicas != want || (s.Proposal >= 0 && d.Proposal != s.Proposal) {
			bad++
			t.Errorf("sync %d at %s (metrics of %s): controller proposal %d desired %d %s; replay %v",
				i, s.At.Format("15:04:05.000"), s.MetricsAt.Format("15:04:05"), s.Proposal, want, s.Failed, d)
		}
	}
	if bad > 0 {
		for i, d := range replayed {
			t.Logf("replay %3d: %v", i, d)
		}
	}
}

// checkSensitivity shows the replay check has teeth: without the
// scale-down stabilisation window the replay must disagree with the
// controller (in the last phase, which scales down). It also logs which of
// the controller's paths the run went through, and how many syncs read a
// scrape other than the latest before them (the alignment MetricsAt gives).
func (r *caseRun) checkSensitivity(t *testing.T, h hpasim.History, replayed []hpasim.Decision) {
	c := harness.Autoscaling.Controller
	c.DownscaleStabilization = 0
	in := make([]hpasim.Sync, len(r.syncs))
	for i, s := range r.syncs {
		in[i] = hpasim.Sync{At: s.At, MetricsAt: s.MetricsAt}
	}
	unstabilized, err := hpasim.Replay(c, r.spec, h, in)
	if err != nil {
		t.Fatal(err)
	}
	if len(hpasim.Disagreements(unstabilized, replayed)) == 0 {
		t.Error("the replay without the scale-down window decides as the controller did: the run never tested the window")
	}
	var missing, unready, stabilized, older int
	var scrapes []time.Time
	for _, s := range h.Usage {
		for _, p := range s.Points {
			scrapes = append(scrapes, p.At)
		}
	}
	for i, d := range replayed {
		for _, rd := range d.Readings {
			if rd.Missing > 0 {
				missing++
			}
			if rd.Unready > 0 {
				unready++
			}
		}
		if d.Reason == "scale-down stabilised" {
			stabilized++
		}
		latest := time.Time{}
		for _, at := range scrapes {
			if !at.After(r.syncs[i].At) && at.After(latest) {
				latest = at
			}
		}
		if !latest.Equal(r.syncs[i].MetricsAt) {
			older++
		}
	}
	t.Logf("syncs with pods missing metrics: %d, with unready pods: %d, scale-down stabilised: %d; reading a scrape older than the latest before the sync: %d",
		missing, unready, stabilized, older)
}

// checkScaleUpLimited asserts that the one-pod-per-15-s policy held the
// controller back at least once (its proposal above what it set), as the
// replay says it did.
func (r *caseRun) checkScaleUpLimited(t *testing.T, replayed []hpasim.Decision) {
	limited := 0
	for i, s := range r.syncs {
		if s.Proposal > s.Desired && s.Desired > 0 && replayed[i].Reason == "scale-up limit" {
			limited++
		}
	}
	if limited == 0 {
		t.Error("the scale-up policy never limited the controller")
	}
	t.Logf("syncs held back by the scale-up policy: %d", limited)
}

// checkStatus asserts that every status the HPA was seen with is the
// decision of the controller's last sync before it: the log is the
// controller's decisions.
func (r *caseRun) checkStatus(t *testing.T) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.status) == 0 {
		t.Fatal("the HPA's status never changed")
	}
	for _, st := range r.status {
		last := int32(0)
		for _, s := range r.syncs {
			if s.At.After(st.at) {
				break
			}
			if s.Desired >= 0 {
				last = s.Desired
			}
		}
		if last != st.desired {
			t.Errorf("status desiredReplicas %d seen at %s; the controller's last sync before decided %d", st.desired, st.at.Format("15:04:05.000"), last)
		}
	}
}

func equalInt32(a, b []int32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func ptr[T any](v T) *T { return &v }
