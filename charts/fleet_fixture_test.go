package charts_test

import (
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/proxysizer/proxysizer/capacity"
	"github.com/proxysizer/proxysizer/cluster"
	"github.com/proxysizer/proxysizer/cluster/prom"
	"github.com/proxysizer/proxysizer/profiles"
	"github.com/proxysizer/proxysizer/sizing"
)

// xssNote reaches the capacity page as a note: it must stay text.
const xssNote = `</script><script>window.__pwned=3</script>`

// fleetReport is a capacity plan of twelve workloads in three namespaces,
// with risks and measurements, and a note holding markup.
func fleetReport(t *testing.T) *capacity.Report {
	t.Helper()
	q := func(s string) *resource.Quantity { v := resource.MustParse(s); return &v }
	f := &capacity.Fleet{Notes: []string{xssNote}, K8sGitVersion: "v1.33.4",
		Telemetry: capacity.TelemetryRun{At: time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC), Window: 24 * time.Hour, RateWindow: 5 * time.Minute, Quantile: 0.99,
			Queries: prom.FleetQueries(prom.FleetQuery{Window: 24 * time.Hour, RateWindow: 5 * time.Minute, Quantile: 0.99, At: time.Unix(0, 0)}), QueriesSent: 9,
			Series: map[string]int{prom.QueryInbound: 1, prom.QueryOutbound: 1, prom.QueryRetries: 1, prom.QueryProxyCPUPeak: 1, prom.QueryProxyMemory: 1}}}
	for i := range 12 {
		ns := []string{"shop", "pay", "search"}[i%3]
		rps := float64(20 * (i + 1) * (i + 1))
		f.Workloads = append(f.Workloads, capacity.Workload{Kind: cluster.KindDeployment, Namespace: ns, Name: "svc-" + string(rune('a'+i)), Replicas: int32(2 + i%4),
			Containers: []sizing.PodContainer{{Name: "app", Role: sizing.RoleApp, RequestMillicores: 500, HasRequest: true}},
			Sidecar: capacity.SidecarState{Found: true, Kind: "annotations", Concurrency: 2, ConcurrencyKnown: true, ConcurrencySource: "annotation",
				Resources: cluster.SidecarResources{CPURequest: q("100m"), CPULimit: q("1"), MemoryRequest: q("128Mi"), MemoryLimit: q("1Gi")}},
			Config: capacity.ConfigState{Known: true, Holds: cluster.Scope{Clusters: 300, Endpoints: 900}, ScopedKnown: true, Scoped: cluster.Scope{Clusters: 5, Endpoints: 12},
				ScopedHosts: []string{"istio-system/*"}},
			Telemetry: prom.WorkloadTelemetry{InboundPeakPerPod: prom.Figure{Value: rps, Found: true}, InboundRequests: prom.Figure{Value: rps * 1e4, Found: true},
				Outbound: map[string]float64{"db.data.svc.cluster.local": rps * 1e4}, Retries: prom.Figure{Value: rps * 100, Found: true},
				ProxyCPUPeak:   prom.Figure{Value: 0.01 + 0.3*rps*2/1000, Found: true},
				ThrottledPeak:  prom.Figure{Value: float64(i%5) / 10, Found: true},
				ProxyMemoryMax: prom.Figure{Value: 70 << 20, Found: true}}})
	}
	p, err := profiles.Load(profiles.DefaultName)
	if err != nil {
		t.Fatal(err)
	}
	r, err := capacity.Analyze(f, capacity.Options{Profile: p, Headroom: 0.15, MemoryLimitRatio: 2})
	if err != nil {
		t.Fatal(err)
	}
	return r
}
