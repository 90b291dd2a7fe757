package hpasim

import (
	"fmt"
	"math"
	"sort"
	"time"

	"k8s.io/apimachinery/pkg/util/version"
)

// Controller is kube-controller-manager's HPA configuration: its
// --horizontal-pod-autoscaler-* flags and the cluster's version.
type Controller struct {
	// SyncPeriod is --horizontal-pod-autoscaler-sync-period: each HPA is
	// reconciled once per period.
	SyncPeriod time.Duration
	// Tolerance is --horizontal-pod-autoscaler-tolerance: no change while
	// the usage ratio stays within 1 +/- Tolerance.
	Tolerance float64
	// DownscaleStabilization is
	// --horizontal-pod-autoscaler-downscale-stabilization: the window whose
	// highest recommendation a scale-down may not go below (also the
	// behavior's scale-down window when the HPA leaves it unset).
	DownscaleStabilization time.Duration
	// CPUInitializationPeriod is
	// --horizontal-pod-autoscaler-cpu-initialization-period: for this long
	// after a pod starts, its CPU sample is ignored unless it was taken
	// wholly after the pod became Ready.
	CPUInitializationPeriod time.Duration
	// InitialReadinessDelay is
	// --horizontal-pod-autoscaler-initial-readiness-delay: after the
	// initialisation period, an unready pod's sample is ignored only when
	// it turned unready within this long of starting (it never was ready).
	InitialReadinessDelay time.Duration
	// Version is the cluster's Kubernetes version (nil: 1.33, the version
	// this package follows). From 1.29 native sidecars count in the pods'
	// requests.
	Version *version.Version
	// ConfigurableTolerance is the HPAConfigurableTolerance feature gate
	// (alpha in 1.33, off by default): when set, the behavior's per-direction
	// tolerances override Tolerance.
	ConfigurableTolerance bool
}

// DefaultController is kube-controller-manager's defaults.
func DefaultController() Controller {
	return Controller{
		SyncPeriod:              15 * time.Second,
		Tolerance:               0.1,
		DownscaleStabilization:  5 * time.Minute,
		CPUInitializationPeriod: 5 * time.Minute,
		InitialReadinessDelay:   30 * time.Second,
	}
}

var nativeSidecarsInRequests = version.MajorMinor(1, 29)

func (c Controller) countsNativeSidecars() bool {
	return c.Version == nil || c.Version.AtLeast(nativeSidecarsInRequests)
}

func (c Controller) validate() error {
	switch {
	case c.SyncPeriod <= 0:
		return fmt.Errorf("hpasim: the sync period must be > 0, got %s", c.SyncPeriod)
	case c.Tolerance < 0 || c.Tolerance >= 1:
		return fmt.Errorf("hpasim: the tolerance must be within [0, 1), got %g", c.Tolerance)
	case c.DownscaleStabilization < 0 || c.CPUInitializationPeriod < 0 || c.InitialReadinessDelay < 0:
		return fmt.Errorf("hpasim: the stabilisation window, CPU initialisation period and initial readiness delay must be >= 0")
	}
	return nil
}

// History is what the controller would have seen over a window.
type History struct {
	// Pods are the pods the HPA's selector matched at some time in the
	// window.
	Pods []Pod
	// Usage is the CPU usage of each pod's containers, one Series per
	// (pod, container).
	Usage []Series
	// MetricsMaxAge is how long a pod's latest point stands for its current
	// usage: the metrics source's resolution (metrics-server's
	// --metric-resolution, a range query's step). A pod whose latest point
	// is older has no metric (it is "missing").
	MetricsMaxAge time.Duration
	// InitialReplicas is the scale target's spec.replicas before the first
	// sync.
	InitialReplicas int32
}

// Pod is one pod and the states the controller's cache held of it.
type Pod struct {
	Name string
	// Containers are the pod's regular containers and its native sidecars
	// (init containers with restartPolicy Always); ordinary init
	// containers, which have finished before the pod runs, are left out.
	Containers []Container
	// States are in time order. Before the first the pod does not exist.
	States []PodState
}

// Container is one container's part in the pod's CPU request.
type Container struct {
	Name string
	// CPURequestMillicores is the container's CPU request; HasCPURequest
	// is false when it has none (the Resource metric then fails).
	CPURequestMillicores int64
	HasCPURequest        bool
	// NativeSidecar marks a restartable init container.
	NativeSidecar bool
}

// PodState is the pod as the controller's cache held it from From on.
type PodState struct {
	From time.Time
	// Gone: the pod no longer exists.
	Gone bool
	// Phase is status.phase (Pending, Running, Succeeded, Failed).
	Phase string
	// Deleting: metadata.deletionTimestamp is set.
	Deleting bool
	// StartTime is status.startTime (zero: unset).
	StartTime time.Time
	// Ready is the status of the pod's Ready condition ("True", "False",
	// "Unknown"; "" when it has none) and ReadySince its
	// lastTransitionTime.
	Ready      string
	ReadySince time.Time
}

// Series is one container's CPU usage over time.
type Series struct {
	Pod, Container string
	Points         []Point
}

// Point is one reading of a container's CPU usage.
type Point struct {
	// At is the end of the averaging window (metrics-server's timestamp, a
	// range query's evaluation time) and Window its length.
	At     time.Time
	Window time.Duration
	// Millicores is the usage as the HPA reads it: the reported quantity's
	// MilliValue (rounded up to a whole millicore).
	Millicores int64
}

// MillicoresFromCores converts a usage in cores (a Prometheus rate) the
// way metrics-server and the HPA do: metrics-server reports whole
// nanocores (truncated), the HPA reads millicores rounded up.
func MillicoresFromCores(cores float64) int64 {
	nano := int64(cores * 1e9)
	return int64(math.Ceil(float64(nano) / 1e6))
}

// Sync is one reconciliation of the HPA.
type Sync struct {
	At time.Time
	// MetricsAt, when set, is the timestamp of the metrics the sync read
	// (a sync that falls within milliseconds of a scrape may read either
	// the new or the previous one); zero: the latest points at or before At.
	MetricsAt time.Time
}

// SyncsEvery lists syncs from start (exclusive: the controller first syncs
// an HPA one period after it appears) to end (inclusive), one per period.
func SyncsEvery(start, end time.Time, period time.Duration) []Sync {
	var out []Sync
	if period <= 0 {
		return nil
	}
	for t := start.Add(period); !t.After(end); t = t.Add(period) {
		out = append(out, Sync{At: t})
	}
	return out
}

// stateAt is the pod's state at t and whether the pod exists then.
func (p *Pod) stateAt(t time.Time) (PodState, bool) {
	i := sort.Search(len(p.States), func(i int) bool { return p.States[i].From.After(t) })
	if i == 0 {
		return PodState{}, false
	}
	s := p.States[i-1]
	return s, !s.Gone
}

func (h *History) validate() error {
	if h.MetricsMaxAge <= 0 {
		return fmt.Errorf("hpasim: the metrics' max age must be > 0 (the metrics resolution)")
	}
	if h.InitialReplicas < 0 {
		return fmt.Errorf("hpasim: initial replicas must be >= 0, got %d", h.InitialReplicas)
	}
	seen := map[string]bool{}
	for _, p := range h.Pods {
		if seen[p.Name] {
			return fmt.Errorf("hpasim: pod %q listed twice", p.Name)
		}
		seen[p.Name] = true
		for i := 1; i < len(p.States); i++ {
			if p.States[i].From.Before(p.States[i-1].From) {
				return fmt.Errorf("hpasim: pod %q: states out of time order", p.Name)
			}
		}
	}
	for _, s := range h.Usage {
		for i := 1; i < len(s.Points); i++ {
			if !s.Points[i].At.After(s.Points[i-1].At) {
				return fmt.Errorf("hpasim: usage of %s/%s: points out of time order", s.Pod, s.Container)
			}
		}
	}
	return nil
}

// Without is the history with one container taken out of every pod (its
// request and its usage): the app-only reference of a pod with a sidecar.
func (h History) Without(container string) History {
	out := h
	out.Pods = make([]Pod, len(h.Pods))
	for i, p := range h.Pods {
		q := p
		q.Containers = nil
		for _, c := range p.Containers {
			if c.Name != container {
				q.Containers = append(q.Containers, c)
			}
		}
		out.Pods[i] = q
	}
	out.Usage = nil
	for _, s := range h.Usage {
		if s.Container != container {
			out.Usage = append(out.Usage, s)
		}
	}
	return out
}
