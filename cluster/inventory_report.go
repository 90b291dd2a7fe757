package cluster

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/proxysizer/proxysizer/internal/input"
	"github.com/proxysizer/proxysizer/internal/textfmt"
	"github.com/proxysizer/proxysizer/model"
	"github.com/proxysizer/proxysizer/profiles"
	"github.com/proxysizer/proxysizer/sizing"
)

// DefaultInventoryConcurrency is the workers of the inventory's memory
// estimate when the caller gives none: Istio's default proxy concurrency.
const DefaultInventoryConcurrency = 2

// maxInventoryConcurrency bounds the workers: Envoy's memory per worker is
// measured up to a few dozen.
const maxInventoryConcurrency = 256

// InventoryRequest is an inventory as a person asks for it: the profile
// whose memory model sizes each scope, the workers, and the names the
// reads need (defaults: DefaultInventoryRequest). Names shows the fields
// in the caller's words, the plan's (sizing.FieldClusters, FieldEndpoints)
// included.
type InventoryRequest struct {
	Profile       profiles.Profile
	Concurrency   int
	ClusterDomain string
	RootNamespace string
	Names         input.Names
}

// DefaultInventoryRequest holds every default of an inventory but the
// profile.
func DefaultInventoryRequest() InventoryRequest {
	return InventoryRequest{Concurrency: DefaultInventoryConcurrency, ClusterDomain: DefaultClusterDomain, RootNamespace: DefaultMeshNamespace}
}

// Options checks the request and builds what ReadInventory takes. Each
// problem is an *input.Error naming its field.
func (r InventoryRequest) Options() (InventoryOptions, error) {
	if r.Concurrency < 1 || r.Concurrency > maxInventoryConcurrency {
		return InventoryOptions{}, r.Names.Errorf(sizing.FieldConcurrency, "expected a worker count within 1..%d, got %d", maxInventoryConcurrency, r.Concurrency)
	}
	if err := CheckMeshNames(r.RootNamespace, r.ClusterDomain, r.Names); err != nil {
		return InventoryOptions{}, err
	}
	return InventoryOptions{ClusterDomain: r.ClusterDomain, RootNamespace: r.RootNamespace}, nil
}

// PricedScope is a scope with the memory the profile's model expects for
// it and the plan inputs that carry it.
type PricedScope struct {
	Scope
	MemoryBytes float64 `json:"expected_memory_bytes"`
	// PlanFlags gives the scope to a plan: its clusters and endpoints,
	// named as the request's Names name the plan's inputs.
	PlanFlags string `json:"plan_flags"`
}

// PricedSidecar is a Sidecar resource whose scope (shadowing the embedded
// one, in the same place in the JSON) carries the memory estimate.
type PricedSidecar struct {
	SidecarScope
	Scope PricedScope `json:"scope"`
}

// InventoryReport is an inventory with each scope priced by a profile's
// memory model.
type InventoryReport struct {
	Namespace   string          `json:"namespace"`
	Profile     string          `json:"profile"`
	Concurrency int             `json:"concurrency"`
	Unscoped    PricedScope     `json:"without_sidecar_resources"`
	SidecarAPI  string          `json:"sidecar_api"`
	Default     *PricedSidecar  `json:"with_default_sidecar,omitempty"`
	Sidecars    []PricedSidecar `json:"sidecars"`
	Notes       []string        `json:"notes"`
}

// Report adds to each scope of the inventory the memory the profile's
// model expects at the request's workers and the plan inputs that carry
// it.
func (r InventoryRequest) Report(inv *Inventory) InventoryReport {
	out := InventoryReport{Namespace: inv.Namespace, Profile: r.Profile.Name, Concurrency: r.Concurrency,
		SidecarAPI: inv.SidecarAPI, Sidecars: []PricedSidecar{}, Notes: inv.Notes}
	scope := func(s Scope) PricedScope {
		m := r.Profile.Memory.Estimate(model.Config{Clusters: s.Clusters, Endpoints: s.Endpoints}, r.Concurrency)
		return PricedScope{Scope: s, MemoryBytes: m.Total,
			PlanFlags: r.Names.Sprintf("%s %d %s %d", sizing.FieldClusters, s.Clusters, sizing.FieldEndpoints, s.Endpoints)}
	}
	side := func(s SidecarScope) PricedSidecar { return PricedSidecar{SidecarScope: s, Scope: scope(s.Scope)} }
	out.Unscoped = scope(inv.Unscoped)
	for _, s := range inv.Sidecars {
		out.Sidecars = append(out.Sidecars, side(s))
	}
	if inv.Default != nil {
		d := side(*inv.Default)
		out.Default = &d
	}
	return out
}

// WriteTable writes the report for a person: a row per scope, the
// Sidecars' egress hosts, the notes.
func (r InventoryReport) WriteTable(out io.Writer) error {
	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintf(w, "Namespace %s (memory model: profile %s, %d workers)\n\n", r.Namespace, r.Profile, r.Concurrency)
	fmt.Fprintln(w, "SCOPE\tSERVICES\tCLUSTERS\tENDPOINTS\tEXPECTED MEMORY\tPLAN FLAGS")
	line := func(name string, s PricedScope) {
		fmt.Fprintf(w, "%s\t%d\t%d\t%d\t%s\t%s\n", name, s.Services, s.Clusters, s.Endpoints, fmt.Sprintf("%.0fMi", s.MemoryBytes/(1<<20)), s.PlanFlags)
	}
	line("no Sidecar resource (whole mesh)", r.Unscoped)
	if r.Default != nil {
		line(fmt.Sprintf("default Sidecar %s/%s", r.Default.Namespace, r.Default.Name), r.Default.Scope)
	}
	for _, s := range r.Sidecars {
		if r.Default != nil && s.Namespace == r.Default.Namespace && s.Name == r.Default.Name {
			continue
		}
		line(fmt.Sprintf("Sidecar %s (workloads %s)", s.Name, selectorText(s.WorkloadSelector)), s.Scope)
	}
	if err := w.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(out)
	if r.SidecarAPI != "" {
		for _, s := range r.Sidecars {
			fmt.Fprintf(out, "Sidecar %s/%s egress hosts: %s\n", s.Namespace, s.Name, strings.Join(s.EgressHosts, ", "))
		}
		fmt.Fprintln(out)
	}
	textfmt.List(out, "NOTES", r.Notes)
	return nil
}

func selectorText(sel map[string]string) string {
	if len(sel) == 0 {
		return "all"
	}
	parts := make([]string, 0, len(sel))
	for _, k := range slices.Sorted(maps.Keys(sel)) {
		parts = append(parts, k+"="+sel[k])
	}
	return strings.Join(parts, ",")
}
