package cmd

import (
	"bytes"
	"testing"

	"github.com/proxysizer/proxysizer/cluster"
	"github.com/proxysizer/proxysizer/profiles"
)

// goldenInventory is a namespace with a default Sidecar of its own and a
// workload-specific one, as ReadInventory reports it.
func goldenInventory() *cluster.Inventory {
	def := cluster.SidecarScope{Namespace: "shop", Name: "default", EgressHosts: []string{"./*", "istio-system/*"},
		Scope: cluster.Scope{Services: 4, Clusters: 6, Endpoints: 18}}
	return &cluster.Inventory{Namespace: "shop", ClusterDomain: "cluster.local", Unscoped: cluster.Scope{Services: 120, Clusters: 260, Endpoints: 1900},
		SidecarAPI: "networking.istio.io/v1",
		Sidecars: []cluster.SidecarScope{def, {Namespace: "shop", Name: "cart-only", WorkloadSelector: map[string]string{"app": "web", "tier": "front"},
			EgressHosts: []string{"./cart.shop.svc.cluster.local"}, Scope: cluster.Scope{Services: 1, Clusters: 2, Endpoints: 6}}},
		Default: &def,
		Notes:   []string{"a note from the reads"},
	}
}

// The inventory's table, JSON and YAML on a fixed inventory: they must
// not change unless a change means to change them.
func TestInventoryGolden(t *testing.T) {
	prof, err := profiles.Load(profiles.DefaultName)
	if err != nil {
		t.Fatal(err)
	}
	for _, format := range []string{"table", "json", "yaml"} {
		t.Run(format, func(t *testing.T) {
			var b bytes.Buffer
			r := cluster.DefaultInventoryRequest()
			r.Profile, r.Names = prof, planFlagNames()
			report := r.Report(goldenInventory())
			if err := writeAs(&b, format, report, report.WriteTable); err != nil {
				t.Fatal(err)
			}
			compareGolden(t, "inventory-"+format+".out", b.String())
		})
	}
}
