package collect

import (
	"time"

	"github.com/prometheus/common/model"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/proxysizer/proxysizer/capacity"
	"github.com/proxysizer/proxysizer/cluster"
	"github.com/proxysizer/proxysizer/cluster/prom"
	"github.com/proxysizer/proxysizer/internal/input"
	"github.com/proxysizer/proxysizer/internal/quantity"
	psmodel "github.com/proxysizer/proxysizer/model"
	"github.com/proxysizer/proxysizer/profiles"
	"github.com/proxysizer/proxysizer/sizing"
)

// The inputs of a capacity plan beside Prometheus' (prom.Field*), the
// mesh's names (cluster.FieldIstioNamespace, FieldClusterDomain) and the
// sizing knobs (sizing.FieldProfile, FieldHeadroom, FieldCPULimit,
// FieldMemoryLimitRatio), as its problems name them; a caller shows them
// in its own words through Request.Names.
const (
	FieldNamespace      input.Field = "namespace"
	FieldNamespaces     input.Field = "namespaces"
	FieldAllNamespaces  input.Field = "all namespaces"
	FieldWindow         input.Field = "window"
	FieldRateWindow     input.Field = "rate window"
	FieldPeakQuantile   input.Field = "peak quantile"
	FieldAt             input.Field = "end of the window"
	FieldAuthzUpstreams input.Field = "authz upstreams"
)

// MaxWindow bounds the history read: a year, beyond any Prometheus
// retention a fleet keeps.
const MaxWindow = 365 * 24 * time.Hour

// Request is a capacity plan as a person asks for it: the namespaces (one,
// a list, or all), Prometheus, the window and the rates as Prometheus
// durations, the end of the window as RFC 3339 text, the sizing knobs as
// plan takes them, and which fields were given at all. Check checks it.
type Request struct {
	// Namespace is the one namespace asked for (kubectl's -n); Namespaces
	// a list; AllNamespaces every one. None of them: the caller's default.
	Namespace      string
	Namespaces     []string
	AllNamespaces  bool
	Prometheus     prom.Config
	Window         string
	RateWindow     string
	PeakQuantile   float64
	At             string // "": now
	IstioNamespace string
	ClusterDomain  string

	Profile          profiles.Profile
	AuthzUpstreams   []string
	Headroom         float64
	CPULimit         string
	MemoryLimitRatio float64

	Given map[input.Field]bool
	Names input.Names
}

// DefaultRequest holds every default of a capacity plan: a week of history
// at 5-minute rates (the Istio dashboards' rate window) with the peak at
// the 99th percentile, Istio's root namespace, Kubernetes' cluster domain,
// and plan's sizing knobs.
func DefaultRequest() Request {
	plan := sizing.DefaultRequest()
	return Request{Prometheus: prom.DefaultConfig(), Window: "7d", RateWindow: "5m", PeakQuantile: 0.99,
		IstioNamespace: cluster.DefaultMeshNamespace, ClusterDomain: cluster.DefaultClusterDomain,
		Headroom: plan.Headroom, CPULimit: plan.CPULimit, MemoryLimitRatio: plan.MemoryLimitRatio}
}

// Check checks the request and builds what to read (Scope: its Namespaces
// are empty for every namespace, and for the caller's default when none
// was asked for) and how to plan (capacity.Options); now ends the window
// when At is not given. Each problem is an *input.Error naming its field.
func (r Request) Check(now time.Time) (Scope, capacity.Options, error) {
	var s Scope
	o := capacity.Options{Profile: r.Profile, Names: r.Names}
	if r.Prometheus.URL == "" {
		return s, o, r.Names.Errorf(prom.FieldURL, "required: the Prometheus holding Istio's and cAdvisor's series, e.g. http://prometheus.istio-system:9090")
	}
	if err := r.Prometheus.Check(r.Given, r.Names); err != nil {
		return s, o, err
	}
	var err error
	if s.Namespaces, err = r.namespaces(); err != nil {
		return s, o, err
	}
	if s.Telemetry, err = r.telemetry(now); err != nil {
		return s, o, err
	}
	n := r.Names
	if err := cluster.CheckMeshNames(r.IstioNamespace, r.ClusterDomain, n); err != nil {
		return s, o, err
	}
	s.IstioNamespace, s.ClusterDomain = r.IstioNamespace, r.ClusterDomain
	for _, a := range r.AuthzUpstreams {
		fqdn, err := capacity.ServiceFQDN(a, r.ClusterDomain)
		if err != nil {
			return s, o, n.Errorf(FieldAuthzUpstreams, "%v", err)
		}
		o.AuthzUpstreams = append(o.AuthzUpstreams, fqdn)
	}
	err = r.knobs(&o)
	return s, o, err
}

func (r Request) namespaces() ([]string, error) {
	n, given := r.Names, r.Given
	switch {
	case r.AllNamespaces && (given[FieldNamespaces] || given[FieldNamespace]):
		return nil, n.Errorf(FieldAllNamespaces, "plans every namespace: it cannot be combined with %s or %s", FieldNamespace, FieldNamespaces)
	case given[FieldNamespaces] && given[FieldNamespace]:
		return nil, n.Errorf(FieldNamespaces, "give either %s or %s", FieldNamespace, FieldNamespaces)
	}
	for _, ns := range r.Namespaces {
		if len(validation.IsDNS1123Label(ns)) > 0 {
			return nil, n.Errorf(FieldNamespaces, "expected namespace names, got %q", ns)
		}
	}
	if r.Namespace != "" && !r.AllNamespaces {
		return []string{r.Namespace}, nil
	}
	return r.Namespaces, nil
}

func (r Request) telemetry(now time.Time) (prom.FleetQuery, error) {
	n := r.Names
	window, err := model.ParseDuration(r.Window)
	if err != nil || window <= 0 || time.Duration(window) > MaxWindow {
		return prom.FleetQuery{}, n.Errorf(FieldWindow, "expected a duration > 0 and at most %dd, such as 7d or 36h, got %q", MaxWindow/(24*time.Hour), r.Window)
	}
	rate, err := model.ParseDuration(r.RateWindow)
	if err != nil || rate <= 0 || rate > window {
		return prom.FleetQuery{}, n.Errorf(FieldRateWindow, "expected a duration > 0 and at most %s, such as 5m, got %q", FieldWindow, r.RateWindow)
	}
	if !(r.PeakQuantile > 0 && r.PeakQuantile <= 1) {
		return prom.FleetQuery{}, n.Errorf(FieldPeakQuantile, "expected a quantile within (0, 1], such as 0.99, got %v", r.PeakQuantile)
	}
	at := now
	if r.At != "" {
		if at, err = time.Parse(time.RFC3339, r.At); err != nil {
			return prom.FleetQuery{}, n.Errorf(FieldAt, "expected an RFC 3339 time such as 2026-11-30T00:00:00Z, got %q", r.At)
		}
	}
	return prom.FleetQuery{Window: time.Duration(window), RateWindow: time.Duration(rate), Quantile: r.PeakQuantile, At: at}, nil
}

// knobs checks the sizing knobs as plan does.
func (r Request) knobs(o *capacity.Options) error {
	n := r.Names
	if !psmodel.NonNegative(r.Headroom) || r.Headroom > sizing.MaxHeadroom {
		return n.Errorf(sizing.FieldHeadroom, "expected a fraction between 0 and %d (0.15 = 15%%), got %v", sizing.MaxHeadroom, r.Headroom)
	}
	if !psmodel.Finite(r.MemoryLimitRatio) || r.MemoryLimitRatio < 1 || r.MemoryLimitRatio > sizing.MaxMemoryLimitRatio {
		return n.Errorf(sizing.FieldMemoryLimitRatio, "expected a number within 1..%d (the limit cannot be below the request), got %v", sizing.MaxMemoryLimitRatio, r.MemoryLimitRatio)
	}
	o.Headroom, o.MemoryLimitRatio = r.Headroom, r.MemoryLimitRatio
	switch r.CPULimit {
	case "auto":
		o.CPULimit = sizing.CPULimit{Mode: sizing.CPULimitAuto}
	case "none":
		o.CPULimit = sizing.CPULimit{Mode: sizing.CPULimitNone}
	default:
		m, err := quantity.ParseMillicores(r.CPULimit)
		if err != nil {
			return n.Errorf(sizing.FieldCPULimit, "expected auto, none, or a CPU quantity within %s such as 2 or 1500m, got %q", quantity.CPURange, r.CPULimit)
		}
		o.CPULimit = sizing.CPULimit{Mode: sizing.CPULimitFixed, Millicores: m}
	}
	return nil
}
