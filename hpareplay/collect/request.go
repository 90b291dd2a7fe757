package collect

import (
	"time"

	"github.com/proxysizer/proxysizer/cluster"
	"github.com/proxysizer/proxysizer/cluster/prom"
	"github.com/proxysizer/proxysizer/hpasim"
	"github.com/proxysizer/proxysizer/internal/input"
)

// The inputs of a replay beside the HPA's (cluster.HPARequest) and
// Prometheus' (prom.Field*), as its problems name them; a caller shows
// them in its own words through Request.Names.
const (
	// FieldReplay is not an input but the replay itself, which some inputs
	// need.
	FieldReplay     input.Field = "replay"
	FieldEnd        input.Field = "history end"
	FieldWindow     input.Field = "history window"
	FieldStep       input.Field = "history step"
	FieldRateWindow input.Field = "rate window"
	FieldPodStartup input.Field = "pod start-up"

	// kube-controller-manager's HPA settings.
	FieldSyncPeriod              input.Field = "HPA sync period"
	FieldTolerance               input.Field = "HPA tolerance"
	FieldDownscaleStabilization  input.Field = "downscale stabilization"
	FieldCPUInitializationPeriod input.Field = "CPU initialization period"
	FieldInitialReadinessDelay   input.Field = "initial readiness delay"
)

// MaxSteps bounds a replay's history (a week at 15 s is 40,320).
const MaxSteps = 200_000

// Request is a replay as a person asks for it: the HPA's recalculation
// request, Prometheus, the history's end as RFC 3339 text ("": now), its
// window, resolution and rate window, the pods' start-up (0: measured) and
// the controller's settings, with which fields were given at all. Options
// checks it.
type Request struct {
	HPA        cluster.HPARequest
	Prometheus prom.Config
	End        string
	Window     time.Duration
	Step       time.Duration
	RateWindow time.Duration
	PodStartup time.Duration
	Controller hpasim.Controller

	Given map[input.Field]bool
	Names input.Names
}

// DefaultRequest is the window, resolution and controller of a replay
// when the caller gives none: a day, a sample every 15 s (metrics-server's
// common resolution, and the controller's sync period), the CPU as a rate
// over 1 min (four 15 s scrapes, Prometheus' usual minimum), and
// kube-controller-manager's defaults.
func DefaultRequest() Request {
	return Request{Prometheus: prom.DefaultConfig(), Window: 24 * time.Hour, Step: 15 * time.Second, RateWindow: time.Minute,
		Controller: hpasim.DefaultController()}
}

// Options checks the request and builds the replay's options (their
// Namespace is the caller's to set). Each problem is an *input.Error
// naming its field.
func (r Request) Options() (Options, error) {
	n := r.Names
	o := Options{HPA: r.HPA.Name, Window: r.Window, Step: r.Step, RateWindow: r.RateWindow, Controller: r.Controller, PodStartup: r.PodStartup}
	if r.Prometheus.URL == "" {
		return o, n.Errorf(prom.FieldURL, "required with %s: the Prometheus holding the pods' CPU, e.g. http://prometheus.monitoring:9090", FieldReplay)
	}
	if err := r.Prometheus.Check(r.Given, n); err != nil {
		return o, err
	}
	if err := r.history(); err != nil {
		return o, err
	}
	if err := r.controller(); err != nil {
		return o, err
	}
	if r.End != "" {
		end, err := time.Parse(time.RFC3339, r.End)
		if err != nil {
			return o, n.Errorf(FieldEnd, "expected an RFC 3339 time such as 2026-01-05T10:30:00Z, got %q", r.End)
		}
		o.End = end
	}
	var err error
	o.HPAOptions, err = r.HPA.Options()
	return o, err
}

func (r Request) history() error {
	n := r.Names
	switch {
	case r.Step <= 0:
		return n.Errorf(FieldStep, "expected a duration > 0 such as 15s, got %s", r.Step)
	case r.Window < 2*r.Step:
		return n.Errorf(FieldWindow, "expected a duration of at least two steps (%s), got %s", 2*r.Step, r.Window)
	case r.Window/r.Step > MaxSteps:
		return n.Errorf(FieldWindow, "expected at most %d steps of %s, got %s: raise %s", MaxSteps, r.Step, r.Window, FieldStep)
	case r.RateWindow <= 0:
		return n.Errorf(FieldRateWindow, "expected a duration > 0 such as 1m, got %s", r.RateWindow)
	case r.PodStartup < 0:
		return n.Errorf(FieldPodStartup, "expected a duration >= 0 such as 30s, got %s", r.PodStartup)
	}
	return nil
}

func (r Request) controller() error {
	n, c := r.Names, r.Controller
	switch {
	case c.SyncPeriod <= 0:
		return n.Errorf(FieldSyncPeriod, "expected a duration > 0 such as 15s, got %s", c.SyncPeriod)
	case c.Tolerance < 0 || c.Tolerance >= 1:
		return n.Errorf(FieldTolerance, "expected a ratio within [0, 1) such as 0.1, got %g", c.Tolerance)
	case c.DownscaleStabilization < 0:
		return n.Errorf(FieldDownscaleStabilization, "expected a duration >= 0 such as 5m, got %s", c.DownscaleStabilization)
	case c.CPUInitializationPeriod < 0:
		return n.Errorf(FieldCPUInitializationPeriod, "expected a duration >= 0 such as 5m, got %s", c.CPUInitializationPeriod)
	case c.InitialReadinessDelay < 0:
		return n.Errorf(FieldInitialReadinessDelay, "expected a duration >= 0 such as 30s, got %s", c.InitialReadinessDelay)
	}
	return nil
}
