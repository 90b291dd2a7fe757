package check

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// Fix is the change that removes a finding: a ready patch or manifest.
type Fix struct {
	Summary string `json:"summary"`
	// Kind says how to apply Patch: "strategic-merge-patch" (kubectl patch
	// --type strategic), "manifest" (kubectl apply -f), or "mesh-config" (a
	// snippet for meshConfig / the istio ConfigMap).
	Kind string `json:"kind"`
	// Target is the object the patch applies to, "" for a new manifest.
	Target string `json:"target,omitempty"`
	Patch  string `json:"patch"`
}

// Finding is one check failing on one object.
type Finding struct {
	Check    string   `json:"check"`
	Name     string   `json:"name"`
	Severity Severity `json:"severity"`
	// Object is what the finding is about; Workload groups findings in the
	// table (a workload, or the namespace or object when none applies).
	Object   Ref      `json:"object"`
	Workload string   `json:"workload"`
	Message  string   `json:"message"`
	Breaks   string   `json:"breaks"`
	Fix      Fix      `json:"fix"`
	Sources  []Source `json:"sources"`
	Origin   *Origin  `json:"origin,omitempty"`
}

// NotEvaluated is a check that could not run, and why.
type NotEvaluated struct {
	Check  string `json:"check"`
	Reason string `json:"reason"`
}

// Report is the outcome of a run.
type Report struct {
	Inputs       []string       `json:"inputs"`
	Mesh         string         `json:"mesh_config"`
	Environment  EnvReport      `json:"environment"`
	Objects      map[string]int `json:"objects"`
	Findings     []Finding      `json:"findings"`
	NotEvaluated []NotEvaluated `json:"not_evaluated"`
	Assumptions  []string       `json:"assumptions"`
	Checks       []Check        `json:"-"`
}

// EnvReport is the versions the checks went by.
type EnvReport struct {
	Kubernetes       string `json:"kubernetes"`
	KubernetesSource string `json:"kubernetes_source"`
	Istio            string `json:"istio"`
	IstioSource      string `json:"istio_source"`
}

// Telemetry supplies measured traffic where a Prometheus is given.
type Telemetry interface {
	// OutboundHosts lists the destination services (FQDNs) a workload sent
	// requests to (istio_requests_total, reporter="source").
	OutboundHosts(namespace, workload string) ([]string, error)
}

// Options select checks and narrow the report.
type Options struct {
	// Only runs just these check IDs (empty: all); Skip leaves these out.
	Only, Skip []string
	// Workloads keeps findings whose group is one of these ("Deployment
	// shop/web"); empty keeps all.
	Workloads []string
}

// evaluation is one run's state, handed to every check.
type evaluation struct {
	set       *Set
	mesh      *Mesh
	workloads []*workload
	check     *Check
	findings  []Finding
	skipped   []NotEvaluated
	assume    []string
}

// Run evaluates the catalogue over the set.
func Run(s *Set, o Options) (*Report, error) {
	selected, err := selectChecks(o)
	if err != nil {
		return nil, err
	}
	e := &evaluation{set: s, mesh: s.Mesh}
	if e.mesh == nil {
		e.mesh = DefaultMesh()
	}
	e.workloads, err = buildWorkloads(s, e.mesh, &e.assume)
	if err != nil {
		return nil, err
	}
	for _, c := range selected {
		e.check = c
		c.run(e)
	}
	r := &Report{
		Inputs: s.Inputs, Mesh: e.mesh.Source,
		Environment:  envReport(s.Env),
		Objects:      s.counts(),
		Findings:     filterWorkloads(e.findings, o.Workloads),
		NotEvaluated: e.skipped,
		Assumptions:  dedupe(e.assume),
	}
	for _, c := range selected {
		r.Checks = append(r.Checks, *c)
	}
	if r.Findings == nil {
		r.Findings = []Finding{}
	}
	if r.NotEvaluated == nil {
		r.NotEvaluated = []NotEvaluated{}
	}
	slices.SortStableFunc(r.Findings, func(a, b Finding) int {
		return cmp.Or(cmp.Compare(a.Workload, b.Workload), cmp.Compare(a.Check, b.Check), cmp.Compare(a.Object.String(), b.Object.String()))
	})
	return r, nil
}

func selectChecks(o Options) ([]*Check, error) {
	for _, id := range append(slices.Clone(o.Only), o.Skip...) {
		if _, ok := Lookup(id); !ok {
			return nil, fmt.Errorf("unknown check %q: expected one of %s", id, strings.Join(IDs(), ", "))
		}
	}
	var out []*Check
	for _, c := range catalogue {
		keep := len(o.Only) == 0 || slices.ContainsFunc(o.Only, func(id string) bool { return matches(c, id) })
		if keep && !slices.ContainsFunc(o.Skip, func(id string) bool { return matches(c, id) }) {
			out = append(out, c)
		}
	}
	return out, nil
}

func matches(c *Check, id string) bool { return strings.EqualFold(c.ID, id) || c.Name == id }

func filterWorkloads(fs []Finding, keep []string) []Finding {
	if len(keep) == 0 {
		return fs
	}
	var out []Finding
	for _, f := range fs {
		if slices.Contains(keep, f.Workload) {
			out = append(out, f)
		}
	}
	return out
}

func envReport(env Environment) EnvReport {
	r := EnvReport{Kubernetes: "unknown", Istio: "unknown", KubernetesSource: env.K8sSource, IstioSource: env.IstioSource}
	if env.K8sVersion != nil {
		r.Kubernetes = env.K8sVersion.String()
	}
	if env.IstioVersion != nil {
		r.Istio = env.IstioVersion.String()
	}
	return r
}

func (s *Set) counts() map[string]int {
	return map[string]int{
		"Deployment": len(s.Deployments), "StatefulSet": len(s.StatefulSets), "Service": len(s.Services),
		"HorizontalPodAutoscaler": len(s.HPAs), "Namespace": len(s.Namespaces), "Pod": len(s.Pods),
		"VirtualService": len(s.VirtualServices), "DestinationRule": len(s.DestinationRules), "Sidecar": len(s.Sidecars),
		"skipped": s.Skipped,
	}
}

func dedupe(in []string) []string {
	out := []string{}
	for _, s := range in {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// report records a finding of the running check at its default severity.
func (e *evaluation) report(obj Ref, group, message string, fix Fix) *Finding {
	f := Finding{
		Check: e.check.ID, Name: e.check.Name, Severity: e.check.Severity,
		Object: obj, Workload: group, Message: message, Breaks: e.check.Breaks,
		Fix: fix, Sources: e.check.Sources,
	}
	if o, ok := e.set.Origin(obj); ok {
		f.Origin = &o
	}
	e.findings = append(e.findings, f)
	return &e.findings[len(e.findings)-1]
}

// notEvaluated records that the running check could not run.
func (e *evaluation) notEvaluated(reason string) {
	e.skipped = append(e.skipped, NotEvaluated{Check: e.check.ID, Reason: reason})
}

func (e *evaluation) assumption(format string, args ...any) {
	e.assume = append(e.assume, fmt.Sprintf(format, args...))
}

// Failing counts the findings at or above a severity.
func (r *Report) Failing(threshold Severity) int {
	n := 0
	for _, f := range r.Findings {
		if f.Severity >= threshold {
			n++
		}
	}
	return n
}
