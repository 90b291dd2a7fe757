package cmd

import (
	"context"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/proxysizer/proxysizer/cluster"
	"github.com/proxysizer/proxysizer/model"
	"github.com/proxysizer/proxysizer/profiles"
)

func init() { register(newInventoryCmd) }

// inventoryScope is a scope with the memory the model expects for it and
// the plan flags that carry it.
type inventoryScope struct {
	cluster.Scope
	MemoryBytes float64 `json:"expected_memory_bytes"`
	PlanFlags   string  `json:"plan_flags"`
}

// inventorySidecar is a Sidecar resource whose scope (shadowing the
// embedded one, in the same place in the JSON) carries the memory estimate.
type inventorySidecar struct {
	cluster.SidecarScope
	Scope inventoryScope `json:"scope"`
}

type inventoryReport struct {
	Namespace   string             `json:"namespace"`
	Profile     string             `json:"profile"`
	Concurrency int                `json:"concurrency"`
	Unscoped    inventoryScope     `json:"without_sidecar_resources"`
	SidecarAPI  string             `json:"sidecar_api"`
	Default     *inventorySidecar  `json:"with_default_sidecar,omitempty"`
	Sidecars    []inventorySidecar `json:"sidecars"`
	Notes       []string           `json:"notes"`
}

type inventoryFlags struct {
	kube        kubeReadFlags
	profile     string
	concurrency int
	domain      string
	rootNS      string
	output      string
}

func newInventoryCmd() *cobra.Command {
	var f inventoryFlags
	c := &cobra.Command{
		Use:   "inventory",
		Short: "Count the services, ports and endpoints a namespace's sidecars would hold",
		Long: `inventory counts the configuration an Istio sidecar in a namespace would hold,
which is what drives its memory: clusters (one per visible service port) and
endpoints (ready endpoint addresses x ports of the EndpointSlices), for every
service of the mesh (no Sidecar resource) and for each Sidecar resource of
the namespace (networking.istio.io egress hosts such as ./*, istio-system/*,
~/*, ns/svc.ns.svc.cluster.local). It prints the memory the profile's model
expects for each and the ` + "`plan --clusters N --endpoints M`" + ` flags to use.`,
		Example: `  proxysizer inventory -n shop
  proxysizer inventory -n shop -o json --concurrency 4`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			prof, err := f.validate()
			if err != nil {
				return err
			}
			clients, err := f.kube.Connect()
			if err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(c.Context(), f.kube.Timeout)
			defer cancel()
			inv, err := cluster.ReadInventory(ctx, clients.Typed, clients.Dynamic, clients.Namespace,
				cluster.InventoryOptions{ClusterDomain: f.domain, RootNamespace: f.rootNS})
			if err != nil {
				return err
			}
			r := newInventoryReport(inv, prof, f.concurrency)
			switch f.output {
			case "json":
				return writeJSON(c.OutOrStdout(), r)
			case "yaml":
				return writeYAML(c.OutOrStdout(), r)
			}
			return writeInventoryTable(c.OutOrStdout(), r)
		},
	}
	fl := c.Flags()
	f.kube.register(fl, 30*time.Second, "how long the reads may take")
	fl.StringVar(&f.profile, "profile", profiles.DefaultName, "cost profile whose memory model sizes each scope: a reference name or a profile YAML file")
	fl.IntVar(&f.concurrency, "concurrency", 2, "Envoy workers for the memory estimate")
	fl.StringVar(&f.domain, "cluster-domain", "cluster.local", "the cluster's DNS domain, for egress hosts with FQDNs")
	fl.StringVar(&f.rootNS, "root-namespace", "istio-system", "Istio's root namespace, whose default Sidecar applies where a namespace has none")
	fl.StringVarP(&f.output, "output", "o", "table", "output format: table, json or yaml")
	return c
}

// validate checks the flags and loads the profile.
func (f inventoryFlags) validate() (profiles.Profile, error) {
	if err := f.kube.validate(); err != nil {
		return profiles.Profile{}, err
	}
	if !oneOf(f.output, "table", "json", "yaml") {
		return profiles.Profile{}, flagError("output", "expected table, json or yaml, got %q", f.output)
	}
	if f.concurrency < 1 || f.concurrency > 256 {
		return profiles.Profile{}, flagError("concurrency", "expected a worker count within 1..256, got %d", f.concurrency)
	}
	if len(validation.IsDNS1123Subdomain(f.domain)) > 0 {
		return profiles.Profile{}, flagError("cluster-domain", "expected a DNS domain such as cluster.local, got %q", f.domain)
	}
	if len(validation.IsDNS1123Label(f.rootNS)) > 0 {
		return profiles.Profile{}, flagError("root-namespace", "expected a namespace name, got %q", f.rootNS)
	}
	prof, err := profiles.Load(f.profile)
	if err != nil {
		return profiles.Profile{}, flagError("profile", "%v", err)
	}
	return prof, nil
}

// newInventoryReport adds to each scope the memory the profile's model
// expects at concurrency workers and the plan flags that carry it.
func newInventoryReport(inv *cluster.Inventory, prof profiles.Profile, concurrency int) inventoryReport {
	r := inventoryReport{Namespace: inv.Namespace, Profile: prof.Name, Concurrency: concurrency,
		SidecarAPI: inv.SidecarAPI, Sidecars: []inventorySidecar{}, Notes: inv.Notes}
	scope := func(s cluster.Scope) inventoryScope {
		m := prof.Memory.Estimate(model.Config{Clusters: s.Clusters, Endpoints: s.Endpoints}, concurrency)
		return inventoryScope{Scope: s, MemoryBytes: m.Total, PlanFlags: fmt.Sprintf("--clusters %d --endpoints %d", s.Clusters, s.Endpoints)}
	}
	side := func(s cluster.SidecarScope) inventorySidecar {
		return inventorySidecar{SidecarScope: s, Scope: scope(s.Scope)}
	}
	r.Unscoped = scope(inv.Unscoped)
	for _, s := range inv.Sidecars {
		r.Sidecars = append(r.Sidecars, side(s))
	}
	if inv.Default != nil {
		d := side(*inv.Default)
		r.Default = &d
	}
	return r
}

func writeInventoryTable(out io.Writer, r inventoryReport) error {
	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintf(w, "Namespace %s (memory model: profile %s, %d workers)\n\n", r.Namespace, r.Profile, r.Concurrency)
	fmt.Fprintln(w, "SCOPE\tSERVICES\tCLUSTERS\tENDPOINTS\tEXPECTED MEMORY\tPLAN FLAGS")
	line := func(name string, s inventoryScope) {
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
	list(out, "NOTES", r.Notes)
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
