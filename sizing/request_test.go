package sizing

import (
	"errors"
	"strings"
	"testing"

	"github.com/proxysizer/proxysizer/internal/input"
)

// request is a valid request for 10000 RPS over 20 replicas, 2 requests per
// call, with the fields given as a user would.
func request(given ...input.Field) Request {
	r := DefaultRequest()
	r.Profile = testProfile()
	r.TotalRPS, r.Replicas, r.RequestsPerCall = 10000, 20, 2
	r.Given = map[input.Field]bool{FieldTotalRPS: true, FieldReplicas: true, FieldRequestsPerCall: true}
	for _, f := range given {
		r.Given[f] = true
	}
	return r
}

func TestRequestBuildsTheInput(t *testing.T) {
	r := request(FieldAppCPURequest, FieldHPATarget, FieldK8sVersion)
	r.AppCPURequest, r.HPATarget, r.K8sVersion = "1500m", 70, "v1.30.2"
	in, err := r.Input()
	if err != nil {
		t.Fatal(err)
	}
	if in.AppRPSPerPod != 500 || in.Fanout.Outbound != 1 || !in.ConfigDefault || in.CPULimit.Mode != CPULimitAuto {
		t.Errorf("load and knobs: %+v", in)
	}
	h := in.HPA
	// No max replicas given: twice the 20 replicas; the container is named after the deployment.
	if h == nil || h.AppCPURequestMillicores != 1500 || h.K8sVersion.Minor() != 30 || h.MaxReplicas != 40 || h.MinReplicas != 1 || h.AppContainer != "app" {
		t.Errorf("hpa: %+v", h)
	}
}

func TestRequestProblemsNameTheirField(t *testing.T) {
	none := DefaultRequest()
	both := request(FieldRPSPerPod)
	both.RPSPerPod = 100
	limit := request()
	limit.CPULimit = "lots"
	lonely := request(FieldSidecarCPURequest)
	bounds := request(FieldAppCPURequest, FieldHPATarget, FieldMinReplicas, FieldMaxReplicas)
	bounds.AppCPURequest, bounds.HPATarget, bounds.MinReplicas, bounds.MaxReplicas = "1", 70, 5, 3
	for _, tt := range []struct {
		name  string
		r     Request
		field input.Field
		want  string
	}{
		{"no load", none, FieldTotalRPS, "total inbound RPS: the load is required: give total inbound RPS with replicas, or inbound RPS per pod"},
		{"two loads", both, FieldRPSPerPod, "inbound RPS per pod: give either inbound RPS per pod or total inbound RPS with replicas, not both"},
		{"bad limit", limit, FieldCPULimit, `CPU limit: expected auto, none, or a CPU quantity within 1m..1000 such as 2 or 1500m, got "lots"`},
		{"hpa field alone", lonely, FieldSidecarCPURequest, "sidecar CPU request: only used for the HPA: give it with app CPU request and HPA target"},
		{"max below min", bounds, FieldMaxReplicas, "max replicas: expected an integer >= min replicas (5), got 3"},
	} {
		_, err := tt.r.Input()
		var bad *input.Error
		if !errors.As(err, &bad) || bad.Field != tt.field {
			t.Errorf("%s: %v is not an *input.Error on %q", tt.name, err, tt.field)
			continue
		}
		if err.Error() != tt.want {
			t.Errorf("%s:\n got %q\nwant %q", tt.name, err, tt.want)
		}
	}
	// With the caller's names the same problem names the caller's flags.
	none.Names = input.Names{FieldTotalRPS: "--rps", FieldReplicas: "--replicas", FieldRPSPerPod: "--rps-per-pod"}
	if _, err := none.Input(); err == nil || err.Error() != "--rps: the load is required: give --rps with --replicas, or --rps-per-pod" {
		t.Errorf("caller's names: %v", err)
	}
}

func TestReasonsNameInputsInTheCallersWords(t *testing.T) {
	in := baseInput()
	in.Concurrency, in.CPULimit = 2, CPULimit{Mode: CPULimitFixed, Millicores: 1500}
	p := mustRecommend(t, in)
	if p.ConcurrencyReason != "fixed by concurrency 2" || p.Sidecar.Reasons.CPULimit != "fixed by CPU limit 1500m" {
		t.Errorf("domain words: %q, %q", p.ConcurrencyReason, p.Sidecar.Reasons.CPULimit)
	}
	if !strings.Contains(strings.Join(p.Assumptions, "\n"), "pass retry ratio to count them") {
		t.Errorf("the retry assumption does not name the retry ratio: %q", p.Assumptions)
	}
	in.Names = input.Names{FieldConcurrency: "--concurrency", FieldCPULimit: "--cpu-limit", FieldRetryRatio: "--retry-ratio"}
	p = mustRecommend(t, in)
	if p.ConcurrencyReason != "fixed by --concurrency 2" || p.Sidecar.Reasons.CPULimit != "fixed by --cpu-limit 1500m" {
		t.Errorf("caller's names: %q, %q", p.ConcurrencyReason, p.Sidecar.Reasons.CPULimit)
	}
	if !strings.Contains(strings.Join(p.Assumptions, "\n"), "pass --retry-ratio to count them") {
		t.Errorf("the retry assumption does not name --retry-ratio: %q", p.Assumptions)
	}
}
