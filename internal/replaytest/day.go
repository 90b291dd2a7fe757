package replaytest

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"time"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"

	"github.com/proxysizer/proxysizer/hpasim"
)

// DayStart is where the replay window of Day opens (a day long).
var DayStart = time.Date(2026, 1, 6, 0, 0, 0, 0, time.UTC)

// The truth of Day.
const (
	// DayTarget is the HPA's Resource CPU target, min and max replicas.
	DayTarget                      = 60
	DayMinReplicas, DayMaxReplicas = 2, 12
	// The app's total CPU: a daily cosine from DayTroughMillicores at 03:00
	// to DayPeakMillicores at 15:00 UTC.
	DayTroughMillicores, DayPeakMillicores = 300, 2400
	// The sidecar's CPU per ready pod: DaySidecarIdle + DaySidecarPerApp x
	// the pod's app CPU, times (1 + 5% noise); the app's share carries 3%.
	DaySidecarIdle, DaySidecarPerApp = 30.0, 0.26
	// DayPodStartup is how long a new pod takes to turn Ready.
	DayPodStartup = 40 * time.Second
	// DayGrace is how long a deleted pod keeps running (Kubernetes'
	// default terminationGracePeriodSeconds, which is also as long as
	// kube-state-metrics' scrape interval: its deletion timestamp is seen).
	DayGrace = 30 * time.Second
)

// DayLoad is the app's total CPU at t.
func DayLoad(t time.Time) float64 {
	h := float64(t.UTC().Hour()) + float64(t.UTC().Minute())/60 + float64(t.UTC().Second())/3600
	return DayTroughMillicores + (DayPeakMillicores-DayTroughMillicores)*(1+math.Cos(2*math.Pi*(h-15)/24))/2
}

// DaySpec is the HPA the day was recorded under: Resource cpu at
// DayTarget% on the app (400m) and the sidecar (100m).
func DaySpec() autoscalingv2.HorizontalPodAutoscalerSpec {
	target, minReplicas := int32(DayTarget), int32(DayMinReplicas)
	return autoscalingv2.HorizontalPodAutoscalerSpec{MinReplicas: &minReplicas, MaxReplicas: DayMaxReplicas,
		Metrics: []autoscalingv2.MetricSpec{{Type: autoscalingv2.ResourceMetricSourceType, Resource: &autoscalingv2.ResourceMetricSource{
			Name: corev1.ResourceCPU, Target: autoscalingv2.MetricTarget{Type: autoscalingv2.UtilizationMetricType, AverageUtilization: &target}}}}}
}

// Truth is how Day was made: the HPA's decisions that drove its pods.
type Truth struct {
	Syncs     []hpasim.Sync
	Decisions []hpasim.Decision
}

// Day is a day of Deployment "web" under DaySpec: the app's load follows
// DayLoad, spread evenly over the pods ready; the pods follow the
// decisions of the HPA controller's algorithm (hpasim.ReplayDemand, the
// controller's defaults) on that load, each new pod Ready DayPodStartup
// after the scale-up, and a scale-down deleting the pods that are not
// ready first, then those ready last, each running DayGrace more. A pod
// uses 50m (app) and 15m (sidecar) while it starts, 5m each while it
// stops. cAdvisor is scraped every 15 s, kube-state-metrics every 30 s,
// from 5 minutes before DayStart to a day after.
func Day(namespace string, seed uint64) (Scenario, Truth, error) {
	start, end := DayStart, DayStart.Add(24*time.Hour)
	d := hpasim.Demand{
		Containers: []hpasim.Container{{Name: App, CPURequestMillicores: 400, HasCPURequest: true}, {Name: Sidecar, CPURequestMillicores: 100, HasCPURequest: true}},
		Window:     15 * time.Second, MetricsMaxAge: 15 * time.Second, InitialReplicas: 3, PodStartup: DayPodStartup,
		Usage: map[string]hpasim.ContainerDemand{},
	}
	app := hpasim.ContainerDemand{}
	sc := hpasim.ContainerDemand{IdleMillicores: DaySidecarIdle}
	for t := start; !t.After(end); t = t.Add(15 * time.Second) {
		load := DayLoad(t.Add(-7500 * time.Millisecond))
		d.Times = append(d.Times, t)
		// one pod's worth of idle: the model gives each ready pod idle +
		// 0.26 x its share of the app's load
		app.Millicores, app.Pods = append(app.Millicores, load), append(app.Pods, 1)
		sc.Millicores, sc.Pods = append(sc.Millicores, DaySidecarIdle+DaySidecarPerApp*load), append(sc.Pods, 1)
	}
	d.Usage[App], d.Usage[Sidecar] = app, sc
	truth := Truth{Syncs: hpasim.SyncsEvery(start, end, 15*time.Second)}
	var err error
	if truth.Decisions, err = hpasim.ReplayDemand(hpasim.DefaultController(), DaySpec(), d, truth.Syncs); err != nil {
		return Scenario{}, Truth{}, err
	}
	s := Scenario{Namespace: namespace, Start: start.Add(-5 * time.Minute), End: end, Scrape: 15 * time.Second, KSMScrape: 30 * time.Second,
		AppRequestMillicores: 400, SidecarRequestMillicores: 100}
	s.Pods = dayPods(truth)
	rng := rand.New(rand.NewPCG(seed, 17))
	noise := map[[2]int64]float64{}
	jitter := func(i int, t time.Time, k int64) float64 {
		key := [2]int64{int64(i)<<2 | k, t.Unix()}
		if v, ok := noise[key]; ok {
			return v
		}
		v := rng.NormFloat64()
		noise[key] = v
		return v
	}
	s.CPU = func(i int, t time.Time) (float64, float64) {
		mid := t.Add(-7500 * time.Millisecond)
		p := s.Pods[i]
		switch {
		case !p.Deleting.IsZero() && !mid.Before(p.Deleting):
			return 5, 5
		case !p.ready(mid):
			return 50, 15
		}
		ready := 0
		for _, q := range s.Pods {
			if q.ready(mid) {
				ready++
			}
		}
		a := DayLoad(mid) / float64(ready) * (1 + 0.03*jitter(i, t, 0))
		return a, (DaySidecarIdle + DaySidecarPerApp*a) * (1 + 0.05*jitter(i, t, 1))
	}
	return s, truth, nil
}

// dayPods turns the decisions into pods.
func dayPods(truth Truth) []Pod {
	var pods []Pod
	running := []int{} // indexes of the pods not deleted
	add := func(at time.Time) {
		name := fmt.Sprintf("web-5d8f9c7b4-%s", podSuffix(len(pods)))
		pods = append(pods, Pod{Name: name, Started: at, Ready: at.Add(DayPodStartup)})
		running = append(running, len(pods)-1)
	}
	for range truth.Decisions[0].CurrentReplicas {
		add(DayStart.Add(-2 * time.Hour))
	}
	for i, dec := range truth.Decisions {
		at := truth.Syncs[i].At
		for len(running) < int(dec.Replicas) {
			add(at)
		}
		if len(running) > int(dec.Replicas) {
			// not ready first, then the pods ready last
			sort.SliceStable(running, func(a, b int) bool {
				pa, pb := pods[running[a]], pods[running[b]]
				ra, rb := pa.Ready.After(at), pb.Ready.After(at)
				if ra != rb {
					return !ra
				}
				return pa.Ready.Before(pb.Ready)
			})
			for _, k := range running[dec.Replicas:] {
				pods[k].Deleting, pods[k].Gone = at, at.Add(DayGrace)
			}
			running = running[:dec.Replicas]
		}
	}
	return pods
}

// podSuffix is a pod name's 5 characters from Kubernetes' safe alphabet.
func podSuffix(i int) string {
	const safe = "bcdfghjklmnpqrstvwxz2456789"
	b := make([]byte, 5)
	for k := range b {
		b[k] = safe[i%len(safe)]
		i /= len(safe)
	}
	return string(b)
}
