// Package hpae2e proves proxysizer's HPA targets on Kubernetes' own
// autoscaler: its integration tests run kube-controller-manager's HPA
// controller in the test harness against a real metrics.k8s.io, drive the
// containers' CPU usage, and compare the controller's decisions with the
// HPA formula, with the app-only reference and with the replay (hpasim) of
// what was recorded. This file holds the recording: pods and metrics as the
// controller saw them, and the controller's decisions from its log.
package hpae2e

import (
	"bufio"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metricsv1beta1 "k8s.io/metrics/pkg/apis/metrics/v1beta1"

	"github.com/proxysizer/proxysizer/hpasim"
)

// Recorder collects what an HPA's controller reads: the pods' states as
// they change and every scrape of their per-container CPU.
type Recorder struct {
	mu     sync.Mutex
	pods   map[string]*hpasim.Pod
	series map[[2]string]*hpasim.Series
}

// NewRecorder is an empty recorder.
func NewRecorder() *Recorder {
	return &Recorder{pods: map[string]*hpasim.Pod{}, series: map[[2]string]*hpasim.Series{}}
}

// Pod records a pod object seen at at (gone: deleted from the API).
func (r *Recorder) Pod(p *corev1.Pod, at time.Time, gone bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	rec, ok := r.pods[p.Name]
	if !ok {
		rec = &hpasim.Pod{Name: p.Name, Containers: hpasim.ContainersOf(p.Spec)}
		r.pods[p.Name] = rec
	}
	s := hpasim.StateOf(p, at)
	if gone {
		s = hpasim.PodState{From: at, Gone: true}
	}
	if n := len(rec.States); n > 0 {
		last := rec.States[n-1]
		last.From = s.From
		if last == s {
			return // nothing the controller reads changed
		}
	}
	rec.States = append(rec.States, s)
}

// PodMetrics records the scrapes in a metrics.k8s.io listing that are new.
func (r *Recorder) PodMetrics(items []metricsv1beta1.PodMetrics) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, m := range items {
		for _, c := range m.Containers {
			key := [2]string{m.Name, c.Name}
			s, ok := r.series[key]
			if !ok {
				s = &hpasim.Series{Pod: m.Name, Container: c.Name}
				r.series[key] = s
			}
			if n := len(s.Points); n > 0 && !m.Timestamp.Time.After(s.Points[n-1].At) {
				continue
			}
			s.Points = append(s.Points, hpasim.Point{At: m.Timestamp.Time, Window: m.Window.Duration, Millicores: c.Usage.Cpu().MilliValue()})
		}
	}
}

// HasMetrics says whether every recorded pod that exists has a reading of
// each of its containers.
func (r *Recorder) HasMetrics(containers ...string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for name, p := range r.pods {
		if len(p.States) == 0 || p.States[len(p.States)-1].Gone {
			continue
		}
		n++
		for _, c := range containers {
			if s, ok := r.series[[2]string{name, c}]; !ok || len(s.Points) == 0 {
				return false
			}
		}
	}
	return n > 0
}

// History is what was recorded, for the replay.
func (r *Recorder) History(initialReplicas int32, maxAge time.Duration) hpasim.History {
	r.mu.Lock()
	defer r.mu.Unlock()
	h := hpasim.History{InitialReplicas: initialReplicas, MetricsMaxAge: maxAge}
	for _, p := range r.pods {
		q := *p
		q.States = append([]hpasim.PodState(nil), p.States...)
		h.Pods = append(h.Pods, q)
	}
	sort.Slice(h.Pods, func(i, j int) bool { return h.Pods[i].Name < h.Pods[j].Name })
	for _, s := range r.series {
		c := *s
		c.Points = append([]hpasim.Point(nil), s.Points...)
		h.Usage = append(h.Usage, c)
	}
	sort.Slice(h.Usage, func(i, j int) bool {
		a, b := h.Usage[i], h.Usage[j]
		return a.Pod < b.Pod || (a.Pod == b.Pod && a.Container < b.Container)
	})
	return h
}

// ControllerSync is one reconciliation of an HPA as kube-controller-manager
// logged it (its HPA controller at verbosity 4).
type ControllerSync struct {
	// At is the time of the sync's first line.
	At time.Time
	// MetricsAt is the timestamp of the metrics it read (zero: none).
	MetricsAt time.Time
	// Proposal is the metrics' replica count before stabilisation and
	// limits (-1: the sync computed none).
	Proposal int32
	// Desired is the replica count it settled on (status.desiredReplicas);
	// -1 when it failed and left the status as it was.
	Desired int32
	// Failed is the error of a failed sync.
	Failed string
}

// klogLine is a klog text header, the message and the key=value pairs.
var klogLine = regexp.MustCompile(`^([IWEF])(\d\d)(\d\d) (\d\d:\d\d:\d\d\.\d{6})\s+\d+ [^\]]+\] (.*)$`)

// ParseControllerLog reads the syncs of HPA namespace/name, whose target is
// Deployment namespace/deployment, from kube-controller-manager's log
// (klog text, UTC timestamps, which carry no year: year gives it).
func ParseControllerLog(r io.Reader, namespace, name, deployment string, year int) ([]ControllerSync, error) {
	target := "Deployment/" + namespace + "/" + deployment
	hpa := namespace + "/" + name
	var out []ControllerSync
	open := false // the last sync has a proposal but no outcome yet
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		m := klogLine.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		msg, kv, ok := splitKlog(m[5])
		if !ok {
			continue
		}
		at, err := klogTime(year, m[2], m[3], m[4])
		if err != nil {
			return nil, err
		}
		switch {
		case msg == "Proposing desired replicas" && kv["scaleTarget"] == target:
			s := ControllerSync{At: at, Proposal: atoi32(kv["desiredReplicas"]), Desired: -1}
			if s.MetricsAt, err = time.Parse("2006-01-02 15:04:05 -0700 MST", kv["timestamp"]); err != nil {
				return nil, fmt.Errorf("controller log: metrics timestamp %q: %w", kv["timestamp"], err)
			}
			out = append(out, s)
			open = true
		case msg == "Decided not to scale" && kv["scaleTarget"] == target,
			msg == "Successfully rescaled" && kv["HPA"] == hpa:
			if !open {
				// minReplicas/maxReplicas correction: no metrics read
				out = append(out, ControllerSync{At: at, Proposal: -1})
			}
			out[len(out)-1].Desired = atoi32(kv["desiredReplicas"])
			open = false
		case m[1] == "E" && strings.Contains(kv["err"], "listed metrics for "+target+":"):
			if !open {
				out = append(out, ControllerSync{At: at, Proposal: -1, Desired: -1})
			}
			out[len(out)-1].Failed = kv["err"]
			open = false
		}
	}
	return out, sc.Err()
}

// splitKlog splits `"message" key=value key="quoted value" ...`.
func splitKlog(s string) (string, map[string]string, bool) {
	q, err := strconv.QuotedPrefix(s)
	if err != nil {
		return "", nil, false
	}
	msg, _ := strconv.Unquote(q)
	kv := map[string]string{}
	rest := strings.TrimSpace(s[len(q):])
	for rest != "" {
		eq := strings.IndexByte(rest, '=')
		if eq <= 0 {
			break
		}
		key := rest[:eq]
		rest = rest[eq+1:]
		var val string
		if strings.HasPrefix(rest, `"`) {
			q, err := strconv.QuotedPrefix(rest)
			if err != nil {
				break
			}
			val, _ = strconv.Unquote(q)
			rest = rest[len(q):]
		} else if sp := strings.IndexByte(rest, ' '); sp >= 0 {
			val, rest = rest[:sp], rest[sp:]
		} else {
			val, rest = rest, ""
		}
		kv[key] = val
		rest = strings.TrimSpace(rest)
	}
	return msg, kv, true
}

func klogTime(year int, month, day, clock string) (time.Time, error) {
	return time.Parse("2006-01-02 15:04:05.000000", fmt.Sprintf("%04d-%s-%s %s", year, month, day, clock))
}

func atoi32(s string) int32 {
	n, err := strconv.ParseInt(s, 10, 32)
	if err != nil {
		return -1
	}
	return int32(n)
}
