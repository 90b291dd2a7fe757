// Package collect checks an HPA replay as a person asks for it (Request,
// with DefaultRequest's defaults, into Options), reads what it needs and
// runs it: from the
// cluster, the HPA, its Deployment's pod template (containers, requests,
// the sidecar) and the server's version (cluster.ReadHPA); from
// Prometheus, in five range queries over the window, the CPU of the pods'
// containers (cAdvisor's container_cpu_usage_seconds_total as a rate) and
// kube-state-metrics' pod series (start, Ready, deletion, requests). The
// recommended target comes from the same HPA core as `proxysizer hpa`
// (cluster.RecalculateHPA), with the sidecar's CPU at the app's target
// read off the line the history shows. It only reads.
package collect

import (
	"context"
	"fmt"
	"time"

	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/proxysizer/proxysizer/cluster"
	"github.com/proxysizer/proxysizer/cluster/prom"
	"github.com/proxysizer/proxysizer/hpareplay"
	"github.com/proxysizer/proxysizer/hpasim"
	"github.com/proxysizer/proxysizer/sizing"
)

// Sources are the clients to read from.
type Sources struct {
	Kube       kubernetes.Interface
	Prometheus *prom.Client
}

// Options say which HPA to replay, over which window, with which
// controller (Request.Options checks a person's request into them).
type Options struct {
	Namespace, HPA string
	// End closes the window (zero: now), Window is its length; both are
	// brought to the step.
	End    time.Time
	Window time.Duration
	// Step is the history's resolution: the range queries' step, and how
	// long a sample stands for a pod's usage (metrics-server's resolution).
	Step time.Duration
	// RateWindow is the CPU rate()'s range.
	RateWindow time.Duration
	// Controller is kube-controller-manager's HPA settings; its version is
	// the server's when unset.
	Controller hpasim.Controller
	// PodStartup, when > 0, is how long a pod the replay adds takes to turn
	// Ready; otherwise it is measured, else hpareplay.DefaultPodStartup.
	PodStartup time.Duration
	// HPA is what the caller knows better than the cluster, as for the
	// recalculation of `hpa`; a sidecar CPU at the app's target given there
	// is used instead of the history's line.
	HPAOptions cluster.HPAOptions
}

// Result is the replay and what it was computed from.
type Result struct {
	*hpareplay.Report
	// Recalculation is `proxysizer hpa`'s report for the HPA, with the
	// sidecar's CPU at the app's target as the recommended run used it.
	Recalculation *cluster.HPAReport `json:"-"`
}

// Replay reads the HPA and its history and replays it.
func Replay(ctx context.Context, src Sources, req Options) (*Result, error) {
	v, err := cluster.ReadHPA(ctx, src.Kube, req.Namespace, req.HPA)
	if err != nil {
		return nil, err
	}
	containers := podContainers(v.Containers)
	sidecar := ""
	if v.HasSidecar {
		sidecar = cluster.SidecarContainerName
	}
	end := req.End
	if end.IsZero() {
		end = time.Now()
	}
	end = end.Truncate(req.Step)
	start := end.Add(-req.Window).Truncate(req.Step)
	names := make([]string, len(containers))
	for i, c := range containers {
		names[i] = c.Name
	}
	sel := prom.Selector{Namespaces: []string{req.Namespace}, PodPattern: prom.DeploymentPods(v.Workload.Name), Containers: names}
	r := promv1.Range{Start: start, End: end, Step: req.Step}
	queries := map[string]string{"cpu": prom.CPURateQuery(sel, req.RateWindow)}
	for name, q := range prom.PodStateQueries(sel) {
		queries[name] = q
	}
	res := &Result{}
	cpu, err := src.Prometheus.CPURate(ctx, sel, r, req.RateWindow)
	if err != nil {
		return nil, err
	}
	states, err := src.Prometheus.PodStates(ctx, sel, r)
	if err != nil {
		return nil, err
	}
	obs, err := hpareplay.Observe(hpareplay.Source{Start: start, End: end, Step: req.Step, RateWindow: req.RateWindow,
		CPU: cpu, States: states, Containers: containers, Sidecar: sidecar, PodStartup: req.PodStartup})
	if err != nil {
		return nil, fmt.Errorf("the history of deployment %s/%s from %s to %s: %w", req.Namespace, v.Workload.Name,
			start.UTC().Format(time.RFC3339), end.UTC().Format(time.RFC3339), err)
	}
	opts, basis, fromHistory, notes := sidecarAtTarget(v, obs, req.HPAOptions)
	hr, err := cluster.RecalculateHPA(v, opts)
	if err != nil {
		return nil, err
	}
	res.Recalculation = hr
	c := req.Controller
	if c.Version == nil {
		c.Version = v.ServerVersion
	}
	rep, err := hpareplay.Replay(obs, hpareplay.Request{Namespace: req.Namespace, HPA: req.HPA, Deployment: v.Workload.Name,
		Controller: c, Spec: v.HPA.Spec, CPUMetric: v.CPUMetric, Recalculation: hr.Recalculation, SidecarBasis: basis, SidecarFromHistory: fromHistory, Sidecar: sidecar})
	if err != nil {
		return nil, err
	}
	rep.Queries = queries
	rep.Notes = append(rep.Notes, notes...)
	rep.Notes = append(rep.Notes, hr.Warnings...)
	if hr.Recalculation != nil && hr.Recalculation.SidecarAboveRequest() != "" {
		rep.Notes = append(rep.Notes, hr.Recalculation.SidecarAboveRequest())
	}
	res.Report = rep
	return res, nil
}

// podContainers are the template's containers as the HPA counts their
// requests.
func podContainers(cs []sizing.PodContainer) []hpasim.Container {
	out := make([]hpasim.Container, 0, len(cs))
	for _, c := range cs {
		out = append(out, hpasim.Container{Name: c.Name, CPURequestMillicores: c.RequestMillicores, HasCPURequest: c.HasRequest,
			NativeSidecar: c.Role == sizing.RoleNativeSidecar})
	}
	return out
}

// sidecarAtTarget is the sidecar's CPU when the app is at its target: the
// caller's figure, else the history's line at the app's absolute target
// (the HPA's target of the app containers' requests), else none (the HPA
// core then assumes the sidecar's request).
func sidecarAtTarget(v *cluster.HPAView, o *hpareplay.Observed, opts cluster.HPAOptions) (cluster.HPAOptions, string, bool, []string) {
	if opts.SidecarCPUAtTargetMillicores > 0 {
		return opts, opts.Names.Of(sizing.FieldSidecarCPUUsage), false, nil
	}
	if o.Sidecar == nil || v.CPUMetric < 0 {
		return opts, "assumed equal to the sidecar's CPU request (no sidecar CPU series to measure it from)", false, nil
	}
	var app int64
	for _, c := range v.Containers {
		if !c.Proxy {
			app += c.RequestMillicores
		}
	}
	target := float64(*v.HPA.Spec.Metrics[v.CPUMetric].Resource.Target.AverageUtilization)
	appTarget := float64(app) * target / 100
	at := o.Sidecar.At(appTarget)
	var notes []string
	if appTarget < o.Sidecar.AppMinMillicores || appTarget > o.Sidecar.AppMaxMillicores {
		notes = append(notes, fmt.Sprintf("the app's target (%.0fm per pod) lies outside the app CPU the window shows (%.0fm to %.0fm): the sidecar's CPU at it is extrapolated along the line",
			appTarget, o.Sidecar.AppMinMillicores, o.Sidecar.AppMaxMillicores))
	}
	if at <= 0 {
		notes = append(notes, fmt.Sprintf("the sidecar's line gives %.1fm at the app's target: not a CPU; its request is assumed instead", at))
		return opts, "assumed equal to the sidecar's CPU request (the history's line gives no positive CPU at the app's target)", false, notes
	}
	opts.SidecarCPUAtTargetMillicores = at
	return opts, fmt.Sprintf("the history's line at the app's %.0fm: %.1fm", appTarget, at), true, notes
}
