package meshfleet

import (
	"bytes"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestTruthAndItsCounters(t *testing.T) {
	w := Workload{Namespace: "shop", Name: "web", Pods: []string{"web-7c9bd8f5b4-x2x4z"}, PeakInboundPerPod: 100, Trough: 0.2, PeakHour: 12,
		Calls: []Call{{Service: "cart.shop.svc.cluster.local", Namespace: "shop", Workload: "cart", PerInbound: 2}}, RetryRatio: 0.1,
		ProxyIdle: 0.01, ProxyCoresPerKRPS: 0.3}
	day := time.Date(2026, 11, 29, 0, 0, 0, 0, time.UTC)
	if l := w.Load(day.Add(12 * time.Hour)); math.Abs(l-1) > 1e-12 {
		t.Errorf("load at the peak hour %v, want 1", l)
	}
	if l := w.Load(day); math.Abs(l-0.2) > 1e-12 {
		t.Errorf("load 12 h from the peak %v, want the trough 0.2", l)
	}
	if h := w.Hops(); math.Abs(h-3.2) > 1e-12 {
		t.Errorf("hops %v, want 1 + 2 x 1.1", h)
	}
	if c := w.ProxyCores(100); math.Abs(c-(0.01+0.3*0.32)) > 1e-12 {
		t.Errorf("proxy cores %v", c)
	}
	// A constant day (trough 1): the inbound counter grows by 100 a second.
	w.Trough = 1
	h := History{Workloads: []Workload{w}, Start: day, End: day.Add(10 * time.Minute), Scrape: time.Minute, Seed: 1}
	var b bytes.Buffer
	if err := h.WriteOpenMetrics(&b, day.Add(5*time.Minute), h.End); err != nil {
		t.Fatal(err)
	}
	text := b.String()
	if !strings.HasSuffix(text, "# EOF\n") {
		t.Error("no # EOF")
	}
	var last float64
	samples := 0
	for _, line := range strings.Split(text, "\n") {
		if strings.HasPrefix(line, `istio_requests_total{reporter="destination"`) {
			f := strings.Fields(line)
			v, _ := strconv.ParseFloat(f[len(f)-2], 64)
			last, samples = v, samples+1
		}
	}
	if samples != 5 || math.Abs(last-100*9*60) > 1e-6 {
		t.Errorf("%d inbound samples from minute 5, the last %v; want 5 and 100/s x 9 min", samples, last)
	}
	if strings.Contains(text, `container="istio-proxy"`) != true || !strings.Contains(text, `cluster_name="outbound|8080||cart.shop.svc.cluster.local"`) {
		t.Error("cAdvisor or retry series missing")
	}
}
