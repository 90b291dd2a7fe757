package charts_test

import (
	"bytes"
	"html"
	"strings"
	"testing"
	"time"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"

	"github.com/proxysizer/proxysizer/charts"
	"github.com/proxysizer/proxysizer/hpareplay"
	"github.com/proxysizer/proxysizer/hpasim"
	"github.com/proxysizer/proxysizer/internal/replaytest"
	"github.com/proxysizer/proxysizer/sizing"
)

// stairsReport is the Stairs history replayed with the current target at
// 50%, with a hostile note.
func stairsReport(t *testing.T) *hpareplay.Report {
	t.Helper()
	s := replaytest.Stairs(true)
	containers := []hpasim.Container{{Name: "app", CPURequestMillicores: 400, HasCPURequest: true}, {Name: "istio-proxy", CPURequestMillicores: 100, HasCPURequest: true}}
	o, err := hpareplay.Observe(hpareplay.Source{Start: replaytest.StairsStart, End: replaytest.StairsStart.Add(30 * time.Minute), Step: 15 * time.Second,
		RateWindow: 20 * time.Second, CPU: s.IdealCPU(), States: s.IdealStates(), Containers: containers, Sidecar: "istio-proxy"})
	if err != nil {
		t.Fatal(err)
	}
	h, err := sizing.RecalculateHPA(sizing.PodHPA{AppCPURequestMillicores: 400, SidecarCPURequestMillicores: 100, TargetPercent: 50, AppContainer: "app",
		SidecarCPU: sizing.SidecarCPUGiven(o.Sidecar.At(200), "measured")})
	if err != nil {
		t.Fatal(err)
	}
	target, minReplicas := int32(50), int32(2)
	spec := autoscalingv2.HorizontalPodAutoscalerSpec{MinReplicas: &minReplicas, MaxReplicas: 10, Metrics: []autoscalingv2.MetricSpec{{Type: autoscalingv2.ResourceMetricSourceType,
		Resource: &autoscalingv2.ResourceMetricSource{Name: corev1.ResourceCPU, Target: autoscalingv2.MetricTarget{Type: autoscalingv2.UtilizationMetricType, AverageUtilization: &target}}}}}
	r, err := hpareplay.Replay(o, hpareplay.Request{Namespace: "shop", HPA: "web", Deployment: "web", Controller: hpasim.DefaultController(), Spec: spec,
		Recalculation: &h, SidecarBasis: "measured", SidecarFromHistory: true, Sidecar: "istio-proxy"})
	if err != nil {
		t.Fatal(err)
	}
	r.Notes = append(r.Notes, xssVersion)
	r.Queries = map[string]string{"cpu": `sum by (namespace, pod, container) (rate(container_cpu_usage_seconds_total{pod=~"web-.+"}[20s]))`}
	return r
}

// The replicas chart draws each run as steps, one point per change and
// the last sync: the reference at 2, 3 (2:15) and 2 (20:15), then 30:00.
func TestReplayChartsStepAtChanges(t *testing.T) {
	r := stairsReport(t)
	built := charts.ReplayCharts(r)
	if len(built) != 2 || built[0].ID != "chart-replicas" || built[1].ID != "chart-load" {
		t.Fatalf("charts %v", built)
	}
	series := seriesOf(t, built[0])
	if len(series) != 4 {
		t.Fatalf("%d series, want the pods observed and the three runs", len(series))
	}
	ref := series[1]
	if !strings.HasPrefix(ref["name"].(string), "app-only reference") || ref["step"] != "end" {
		t.Fatalf("second series %v", ref)
	}
	data := ref["data"].([]any)
	var got []float64
	for _, d := range data {
		got = append(got, d.(map[string]any)["value"].([]any)[1].(float64))
	}
	if want := []float64{2, 3, 2, 2}; len(got) != len(want) || got[0] != 2 || got[1] != 3 || got[2] != 2 || got[3] != 2 {
		t.Errorf("reference points %v, want %v", got, want)
	}
	first := data[1].(map[string]any)["value"].([]any)[0].(float64)
	if int64(first) != replaytest.StairsStart.Add(135*time.Second).UnixMilli() {
		t.Errorf("the reference's scale-up drawn at %v ms, want 2:15", first)
	}
	load := seriesOf(t, built[1])
	if len(load) != 2 || len(load[0]["data"].([]any)) != 121 {
		t.Errorf("load chart: %d series", len(load))
	}
}

func TestRenderReplayEscapesText(t *testing.T) {
	var b bytes.Buffer
	if err := charts.RenderReplay(&b, stairsReport(t), time.Date(2026, 1, 5, 11, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	if strings.Contains(page, xssVersion) {
		t.Error("a note reached the page unescaped")
	}
	if !strings.Contains(page, html.EscapeString(xssVersion)) {
		t.Error("the note is not on the page")
	}
	text := html.UnescapeString(page)
	for _, want := range []string{"HPA replay: shop/web", "differed from the app-only reference for 3 min", "Resource cpu at 46%", "chart-replicas", "report generated 2026-01-05T11:00:00Z",
		`pod=~"web-.+"`} {
		if !strings.Contains(text, want) {
			t.Errorf("page lacks %q", want)
		}
	}
}
