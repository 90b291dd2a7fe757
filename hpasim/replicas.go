package hpasim

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"time"
)

// podMetric is one pod's reading, as the controller's metrics client
// returns it.
type podMetric struct {
	at     time.Time
	window time.Duration
	value  int64
}

// listedPod is a pod as the controller's pod lister returns it at a sync.
type listedPod struct {
	pod   *Pod
	state PodState
}

// Reading is what one metric gave at a sync.
type Reading struct {
	// Utilization is the pods' averaged utilisation in percent of their
	// requests (truncated, as in the HPA's status); AverageMillicores the
	// average usage per pod with a metric.
	Utilization       int32 `json:"utilization_percent"`
	AverageMillicores int64 `json:"average_millicores"`
	// Proposal is the replica count this metric asks for.
	Proposal int32 `json:"proposal"`
	// Ready, Unready, Missing and Ignored count the pods by how the
	// controller treated them: counted, ignored as unready or still
	// initialising, without a metric, deleted or failed.
	Ready   int `json:"ready"`
	Unready int `json:"unready"`
	Missing int `json:"missing"`
	Ignored int `json:"ignored"`
}

// readings returns each existing pod's latest reading at t: the sum over
// its containers (container "") or the named container's. The bool says
// whether the metrics source returned any pod at all.
func (r *replayer) readings(t time.Time, container string, exists map[string]bool) (map[string]podMetric, bool) {
	out := map[string]podMetric{}
	returned := false
	for pod, series := range r.usage {
		if !exists[pod] {
			continue // metrics-server serves only pods that exist
		}
		var m podMetric
		have, found := false, false
		for _, s := range series {
			p, ok := latestPoint(s.Points, t, r.h.MetricsMaxAge)
			if !ok {
				continue
			}
			have = true
			if container != "" && s.Container != container {
				continue
			}
			found = true
			m.value += p.Millicores
			if m.at.IsZero() || p.At.Before(m.at) {
				m.at, m.window = p.At, p.Window
			}
		}
		if have {
			returned = true
		}
		if found {
			out[pod] = m
		}
	}
	return out, returned
}

// latestPoint is the last point at or before t, if younger than maxAge.
func latestPoint(points []Point, t time.Time, maxAge time.Duration) (Point, bool) {
	i := sort.Search(len(points), func(i int) bool { return points[i].At.After(t) })
	if i == 0 {
		return Point{}, false
	}
	p := points[i-1]
	if t.Sub(p.At) >= maxAge {
		return Point{}, false
	}
	return p, true
}

// cpuTarget is a CPU metric's target: a utilisation in percent of the
// requests, or an average value per pod.
type cpuTarget struct {
	utilization       int32
	averageMillicores int64
}

// ratio is the usage ratio (and the utilisation and average usage) of the
// pods in metrics.
func (t cpuTarget) ratio(metrics map[string]podMetric, requests map[string]int64) (float64, int32, int64, error) {
	if t.utilization > 0 {
		return utilizationRatio(metrics, requests, t.utilization)
	}
	ratio, usage := usageRatio(metrics, t.averageMillicores)
	return ratio, 0, usage, nil
}

// atScaleDown is what a pod without a metric is taken to use when the
// others ask for fewer replicas: 100% of its request (or the target above
// 100%), or the average-value target.
func (t cpuTarget) atScaleDown(request int64) int64 {
	if t.utilization > 0 {
		return request * int64(max(100, t.utilization)) / 100
	}
	return t.averageMillicores
}

// replicasFor is ReplicaCalculator.GetResourceReplicas (a utilisation
// target) and GetRawResourceReplicas (an average value) for CPU.
func (r *replayer) replicasFor(now, metricsAt time.Time, pods []listedPod, currentReplicas int32, t cpuTarget, container string, tol tolerances) (int32, Reading, error) {
	exists := make(map[string]bool, len(pods))
	for _, p := range pods {
		exists[p.pod.Name] = true
	}
	metrics, returned := r.readings(metricsAt, container, exists)
	if !returned {
		return 0, Reading{}, errors.New("unable to get metrics for resource cpu: no metrics returned from resource metrics API")
	}
	if len(pods) == 0 {
		return 0, Reading{}, errors.New("no pods returned by selector while calculating replica count")
	}
	g := r.groupPods(now, pods, metrics)
	for name := range g.ignored {
		delete(metrics, name)
	}
	for name := range g.unready {
		delete(metrics, name)
	}
	reading := Reading{Ready: g.ready, Unready: len(g.unready), Missing: len(g.missing), Ignored: len(g.ignored)}
	if len(metrics) == 0 {
		return 0, reading, errors.New("did not receive metrics for targeted pods (pods might be unready)")
	}
	var requests map[string]int64
	if t.utilization > 0 {
		var err error
		if requests, err = r.podRequests(pods, container); err != nil {
			return 0, reading, err
		}
	}
	ratio, util, avg, err := t.ratio(metrics, requests)
	if err != nil {
		return 0, reading, err
	}
	reading.Utilization, reading.AverageMillicores = util, avg
	reading.Proposal = proposal(metrics, requests, g, ratio, currentReplicas, t, tol)
	return reading.Proposal, reading, nil
}

// proposal is the replica count from the usage ratio, with missing and
// unready pods filled in the direction that damps the change.
func proposal(metrics map[string]podMetric, requests map[string]int64, g podGroups, ratio float64, currentReplicas int32, t cpuTarget, tol tolerances) int32 {
	scaleUpWithUnready := len(g.unready) > 0 && ratio > 1.0
	if !scaleUpWithUnready && len(g.missing) == 0 {
		if tol.within(ratio) {
			return currentReplicas
		}
		return int32(math.Ceil(ratio * float64(g.ready)))
	}
	for name := range g.missing {
		switch {
		case ratio < 1.0:
			metrics[name] = podMetric{value: t.atScaleDown(requests[name])}
		case ratio > 1.0:
			metrics[name] = podMetric{value: 0}
		}
	}
	if scaleUpWithUnready {
		for name := range g.unready {
			metrics[name] = podMetric{value: 0}
		}
	}
	newRatio, _, _, err := t.ratio(metrics, requests)
	if err != nil || tol.within(newRatio) || (ratio < 1.0 && newRatio > 1.0) || (ratio > 1.0 && newRatio < 1.0) {
		return currentReplicas
	}
	p := int32(math.Ceil(newRatio * float64(len(metrics))))
	if (newRatio < 1.0 && p > currentReplicas) || (newRatio > 1.0 && p < currentReplicas) {
		return currentReplicas
	}
	return p
}

type podGroups struct {
	ready                     int
	unready, missing, ignored map[string]bool
}

// groupPods is the controller's groupPods for the CPU resource.
func (r *replayer) groupPods(now time.Time, pods []listedPod, metrics map[string]podMetric) podGroups {
	g := podGroups{unready: map[string]bool{}, missing: map[string]bool{}, ignored: map[string]bool{}}
	for _, lp := range pods {
		name, s := lp.pod.Name, lp.state
		if s.Deleting || s.Phase == "Failed" {
			g.ignored[name] = true
			continue
		}
		if s.Phase == "Pending" {
			g.unready[name] = true
			continue
		}
		m, found := metrics[name]
		if !found {
			g.missing[name] = true
			continue
		}
		var unready bool
		switch {
		case s.Ready == "" || s.StartTime.IsZero():
			unready = true
		case s.StartTime.Add(r.c.CPUInitializationPeriod).After(now):
			// still initialising: a sample counts only if it was taken
			// wholly after the pod turned Ready
			unready = s.Ready == "False" || m.at.Before(s.ReadySince.Add(m.window))
		default:
			// an unready pod is ignored only if it never was ready
			unready = s.Ready == "False" && s.StartTime.Add(r.c.InitialReadinessDelay).After(s.ReadySince)
		}
		if unready {
			g.unready[name] = true
			continue
		}
		g.ready++
	}
	return g
}

// podRequests is calculatePodRequests: every listed pod's CPU request,
// summed over its containers (and native sidecars, from 1.29) or the named
// container's.
func (r *replayer) podRequests(pods []listedPod, container string) (map[string]int64, error) {
	out := make(map[string]int64, len(pods))
	for _, lp := range pods {
		var sum int64
		for _, c := range lp.pod.Containers {
			if c.NativeSidecar && !r.c.countsNativeSidecars() {
				continue
			}
			if container != "" && container != c.Name {
				continue
			}
			if !c.HasCPURequest {
				return nil, fmt.Errorf("missing request for cpu in container %s of Pod %s", c.Name, lp.pod.Name)
			}
			sum += c.CPURequestMillicores
		}
		out[lp.pod.Name] = sum
	}
	return out, nil
}

// utilizationRatio is metrics.GetResourceUtilizationRatio.
func utilizationRatio(metrics map[string]podMetric, requests map[string]int64, target int32) (float64, int32, int64, error) {
	var total, requested int64
	n := 0
	for name, m := range metrics {
		req, ok := requests[name]
		if !ok {
			continue
		}
		total += m.value
		requested += req
		n++
	}
	if requested == 0 {
		return 0, 0, 0, errors.New("no metrics returned matched known pods")
	}
	util := int32(total * 100 / requested)
	return float64(util) / float64(target), util, total / int64(n), nil
}

// usageRatio is metrics.GetMetricUsageRatio.
func usageRatio(metrics map[string]podMetric, target int64) (float64, int64) {
	var total int64
	for _, m := range metrics {
		total += m.value
	}
	usage := total / int64(len(metrics))
	return float64(usage) / float64(target), usage
}
