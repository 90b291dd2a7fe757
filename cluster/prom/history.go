package prom

import (
	"context"
	"fmt"
	"strings"
	"time"

	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"
)

// MaxRangePoints is Prometheus' limit on the points of one series in one
// range query (11,000): a longer range is asked in parts.
const MaxRangePoints = 11000

// kube-state-metrics' pod series the history of a workload's pods is read
// from.
const (
	SeriesPodStartTime      = "kube_pod_start_time"
	SeriesPodReady          = "kube_pod_status_ready"
	SeriesPodDeletion       = "kube_pod_deletion_timestamp"
	SeriesContainerRequests = "kube_pod_container_resource_requests"
)

// RangeInParts evaluates expr, which must aggregate By, at every step of
// r, in as many range queries as Prometheus' limit of MaxRangePoints per
// series needs, and joins the parts.
func (c *Client) RangeInParts(ctx context.Context, expr string, r promv1.Range) (map[Key][]Point, error) {
	if r.Step <= 0 || r.End.Before(r.Start) {
		return nil, fmt.Errorf("prometheus range query %s: a step > 0 and an end after the start are needed", expr)
	}
	out := map[Key][]Point{}
	span := time.Duration(MaxRangePoints-1) * r.Step
	for start := r.Start; !start.After(r.End); start = start.Add(span + r.Step) {
		part := promv1.Range{Start: start, End: start.Add(span), Step: r.Step}
		if part.End.After(r.End) {
			part.End = r.End
		}
		got, err := c.Range(ctx, expr, part)
		if err != nil {
			return nil, err
		}
		for k, points := range got {
			out[k] = append(out[k], points...)
		}
	}
	return out, nil
}

// PodStateQueries are the PromQL expressions PodStates sends: each pod's
// start time, Ready condition and deletion timestamp (by namespace and
// pod), and each container's CPU request (by namespace, pod and
// container), from kube-state-metrics.
func PodStateQueries(sel Selector) map[string]string {
	pods := Selector{Namespaces: sel.Namespaces, Pods: sel.Pods, PodPattern: sel.PodPattern}
	return map[string]string{
		"start":    fmt.Sprintf("max by (namespace, pod) (%s%s)", SeriesPodStartTime, pods),
		"ready":    fmt.Sprintf("max by (namespace, pod) (%s%s)", SeriesPodReady, withMatchers(pods, `condition="true"`)),
		"deletion": fmt.Sprintf("max by (namespace, pod) (%s%s)", SeriesPodDeletion, pods),
		"requests": fmt.Sprintf("max %s (%s%s)", By, SeriesContainerRequests, withMatchers(sel, `resource="cpu"`)),
	}
}

// withMatchers is the selector's matchers and extra ones.
func withMatchers(sel Selector, extra ...string) string {
	s := strings.TrimSuffix(strings.TrimPrefix(sel.String(), "{"), "}")
	m := append([]string{}, extra...)
	if s != "" {
		m = append([]string{s}, extra...)
	}
	return "{" + strings.Join(m, ",") + "}"
}

// PodStates is kube-state-metrics' view of a workload's pods at each step
// of a range: Start and Deletion hold times as Unix seconds (the series'
// values), Ready 1 while the pod's Ready condition is true, Requests each
// container's CPU request in cores. Every map is empty where
// kube-state-metrics is not scraped.
type PodStates struct {
	Start, Ready, Deletion map[Key][]Point
	Requests               map[Key][]Point
}

// Found says whether Prometheus holds any kube-state-metrics pod series
// for the selector.
func (s *PodStates) Found() bool {
	return s != nil && (len(s.Start) > 0 || len(s.Ready) > 0)
}

// PodStates reads kube-state-metrics' pod series over r, in four range
// queries (each in parts beyond MaxRangePoints steps).
func (c *Client) PodStates(ctx context.Context, sel Selector, r promv1.Range) (*PodStates, error) {
	q := PodStateQueries(sel)
	out := &PodStates{}
	for _, f := range []struct {
		name string
		into *map[Key][]Point
	}{{"start", &out.Start}, {"ready", &out.Ready}, {"deletion", &out.Deletion}, {"requests", &out.Requests}} {
		got, err := c.RangeInParts(ctx, q[f.name], r)
		if err != nil {
			return nil, err
		}
		*f.into = got
	}
	return out, nil
}
