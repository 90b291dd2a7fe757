package prom

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestFleetQueriesAreAFixedSet(t *testing.T) {
	q := FleetQuery{Window: 7 * 24 * time.Hour, RateWindow: 5 * time.Minute, Quantile: 0.99, At: time.Now()}
	all := FleetQueries(q)
	q.Namespaces = make([]string, 300)
	for i := range q.Namespaces {
		q.Namespaces[i] = "ns-" + string(rune('a'+i%26))
	}
	if len(all) != 9 || len(FleetQueries(q)) != 9 {
		t.Fatalf("%d queries, want 9 whatever the namespaces", len(all))
	}
	names := map[string]string{}
	for _, nq := range all {
		names[nq.Name] = nq.Expr
	}
	want := `quantile_over_time(0.99, (avg by (destination_workload_namespace, destination_workload) (sum by (destination_workload_namespace, destination_workload, pod) (rate(istio_requests_total{reporter="destination"}[5m]))))[1w:5m])`
	if names[QueryInboundPeak] != want {
		t.Errorf("inbound peak\n got %s\nwant %s", names[QueryInboundPeak], want)
	}
	for _, name := range []string{QueryProxyCPUPeak, QueryAppCPUPeak, QueryThrottledPeak, QueryRetries, QueryProxyMemory, QueryAppMemory} {
		if !strings.Contains(names[name], `label_replace(`) || !strings.Contains(names[name], "by (namespace, workload)") {
			t.Errorf("%s does not aggregate by the workload derived from the pod: %s", name, names[name])
		}
	}
	if !strings.Contains(names[QueryRetries], `cluster_name=~"outbound\\|.*"`) {
		t.Errorf("retries must keep the outbound clusters only: %s", names[QueryRetries])
	}
	if !strings.Contains(names[QueryAppCPUPeak], `container!~"|POD|istio-proxy"`) {
		t.Errorf("app CPU must leave out the sidecar, the pause container and the pod cgroup: %s", names[QueryAppCPUPeak])
	}
	q.Namespaces = []string{"shop", "pay"}
	for _, nq := range FleetQueries(q) {
		if !strings.Contains(nq.Expr, `namespace=~"shop|pay"`) {
			t.Errorf("%s lacks the namespaces: %s", nq.Name, nq.Expr)
		}
	}
}

func TestFleetQueryValidate(t *testing.T) {
	ok := FleetQuery{Window: time.Hour, RateWindow: 5 * time.Minute, Quantile: 0.99, At: time.Now()}
	if err := ok.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []FleetQuery{
		{Window: 0, RateWindow: time.Minute, Quantile: 0.9, At: time.Now()},
		{Window: time.Hour, RateWindow: 2 * time.Hour, Quantile: 0.9, At: time.Now()},
		{Window: time.Hour, RateWindow: time.Minute, Quantile: 0, At: time.Now()},
		{Window: time.Hour, RateWindow: time.Minute, Quantile: 1.5, At: time.Now()},
		{Window: time.Hour, RateWindow: time.Minute, Quantile: 0.9},
	} {
		if bad.Validate() == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
}

func TestCalledLeavesOutWhatIsNotAService(t *testing.T) {
	got := Called(map[string]float64{"b.shop.svc.cluster.local": 3, "a.pay.svc.cluster.local": 1, "unknown": 5,
		"PassthroughCluster": 2, "BlackHoleCluster": 1, "idle.shop.svc.cluster.local": 0, "api.stripe.com": 4})
	if want := []string{"a.pay.svc.cluster.local", "api.stripe.com", "b.shop.svc.cluster.local"}; !slices.Equal(got, want) {
		t.Errorf("Called = %v, want %v", got, want)
	}
	d := &Destinations{Workloads: map[WorkloadKey]map[string]float64{{"shop", "web"}: {"cart.shop.svc.cluster.local": 1}}}
	if !d.Covers("shop", "web") || d.Covers("shop", "cart") {
		t.Error("Covers: web sent requests, cart none")
	}
}
