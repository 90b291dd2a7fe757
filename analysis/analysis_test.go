package analysis_test

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/proxysizer/proxysizer/analysis"
	"github.com/proxysizer/proxysizer/fit"
	"github.com/proxysizer/proxysizer/internal/sweeptest"
	"github.com/proxysizer/proxysizer/model"
	"github.com/proxysizer/proxysizer/profiles"
	"github.com/proxysizer/proxysizer/results"
	"github.com/proxysizer/proxysizer/sizing"
)

// Without a target and without a search, the recorded sweep is sized for
// its second-highest valid rate (400) less the 15% headroom: a setting's
// capacity is then its highest valid step (600), never the step the target
// came from. The choice is sized in full.
func TestAnalyzeDefaultsTheTargetAndSizesTheChoice(t *testing.T) {
	a := sweeptest.Recorded(t, sweeptest.HAProxySweep)
	if want := math.Round(400 / (1 + sizing.DefaultHeadroom)); a.TargetInboundRPS != want {
		t.Errorf("target %v inbound RPS per pod, want %v (400 less the headroom)", a.TargetInboundRPS, want)
	}
	if !strings.Contains(a.TargetAssumed, "second-highest valid rate 400") {
		t.Errorf("the assumed target does not say where it came from: %q", a.TargetAssumed)
	}
	// The lab's configured fan-out, 1 + 2, which the hops check holds the
	// proxy's own count to.
	if want := a.TargetInboundRPS * 3; math.Abs(a.Recommendation.TargetSidecarRPS-want) > 1e-9 {
		t.Errorf("target sidecar RPS %v, want the inbound target x 3 requests per inbound = %v", a.Recommendation.TargetSidecarRPS, want)
	}
	best := a.Recommendation.Best
	if best == nil {
		t.Fatalf("no setting chosen: %s", a.Recommendation.NoneMeets)
	}
	if a.Plan == nil {
		t.Fatal("the choice has no plan")
	}
	if a.Plan.Concurrency != best.Concurrency {
		t.Errorf("plan concurrency %d, chosen %d", a.Plan.Concurrency, best.Concurrency)
	}
	if a.Plan.Sidecar.CPULimitMillicores != best.CPULimitMillicores {
		t.Errorf("plan CPU limit %dm, chosen %dm", a.Plan.Sidecar.CPULimitMillicores, best.CPULimitMillicores)
	}
	if a.Plan.Sidecar.CPURequestMillicores != best.CPURequestMillicores {
		t.Errorf("plan CPU request %dm, chosen %dm: the plan must price the chosen setting's own curve and interval", a.Plan.Sidecar.CPURequestMillicores, best.CPURequestMillicores)
	}
	for _, k := range []string{sizing.AnnotationProxyCPU, sizing.AnnotationProxyCPULimit, sizing.AnnotationProxyMemory, sizing.AnnotationProxyMemoryLimit, sizing.AnnotationProxyConfig} {
		if a.Annotations[k] == "" {
			t.Errorf("annotations lack %s: %v", k, a.Annotations)
		}
	}
	if a.NotFitted != nil || a.WhyNotFitted() != "" {
		t.Errorf("fitted, yet NotFitted = %v", a.NotFitted)
	}
}

func TestAnalyzeGivenTargetAndSLO(t *testing.T) {
	rec := sweeptest.Load(t, sweeptest.HAProxySweep)
	a, err := analysis.Analyze(rec, analysis.Options{TargetInboundRPS: 200, Headroom: 0.5, SLOP99: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if a.TargetInboundRPS != 200 {
		t.Errorf("target %v, want the given 200", a.TargetInboundRPS)
	}
	if a.TargetAssumed != "" {
		t.Errorf("a given target is said to be assumed: %q", a.TargetAssumed)
	}
	if want := a.Recommendation.TargetSidecarRPS * 1.5; math.Abs(a.Recommendation.PeakSidecarRPS-want) > 1e-9 {
		t.Errorf("peak %v, want the target x 1.5 = %v", a.Recommendation.PeakSidecarRPS, want)
	}
	if a.Recommendation.SLOP99Ms != 20 {
		t.Errorf("SLO %v ms, want the given 20", a.Recommendation.SLOP99Ms)
	}
	rec.Options.SLOP99Ms = 7
	own, err := analysis.Analyze(rec, analysis.Options{Headroom: sizing.DefaultHeadroom})
	if err != nil {
		t.Fatal(err)
	}
	if own.Recommendation.SLOP99Ms != 7 {
		t.Errorf("SLO %v ms without one given, want the sweep's own 7", own.Recommendation.SLOP99Ms)
	}
}

func TestAnalyzeSaysWhyItCannotFit(t *testing.T) {
	rec := sweeptest.Load(t, sweeptest.HAProxySweep)
	sweeptest.OnlyRateValid(rec, 200)
	a := sweeptest.Analyze(t, rec, "out/shop")
	if !errors.Is(a.NotFitted, fit.ErrNothingToFit) {
		t.Fatalf("NotFitted = %v, want fit.ErrNothingToFit", a.NotFitted)
	}
	if !strings.HasPrefix(a.WhyNotFitted(), "out/shop: nothing to fit") {
		t.Errorf("the reason does not name the results directory first: %q", a.WhyNotFitted())
	}
	if a.Sweep == nil || !a.Sweep.StartedAt.Equal(rec.StartedAt) || len(a.Sweep.Steps) != len(rec.Steps) || a.Source != "out/shop" {
		t.Errorf("the analysis lost its sweep or source: %p %q", a.Sweep, a.Source)
	}
	if a.Fit != nil || a.Plan != nil || a.Recommendation.Best != nil {
		t.Errorf("not fitted, yet fit %v, plan %v, choice %v", a.Fit != nil, a.Plan != nil, a.Recommendation.Best != nil)
	}
	if w := a.Warnings(); len(w) != 0 {
		t.Errorf("warnings without a fit: %v", w)
	}
	noSource, err := analysis.Analyze(rec, analysis.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(noSource.WhyNotFitted(), "nothing to fit") {
		t.Errorf("without a source the reason starts %q, want \"nothing to fit\"", noSource.WhyNotFitted())
	}
}

// Warnings holds the fit's warnings, then the recommendation's.
func TestWarningsHoldTheFitsThenTheChoices(t *testing.T) {
	rec := sweeptest.Load(t, sweeptest.HAProxySweep)
	rec.Status = results.SweepInterrupted
	rec.Steps = append(rec.Steps, results.Step{Setting: results.Setting{Concurrency: 2}, RequestedRPS: 800, Status: results.StatusPending})
	a := sweeptest.Analyze(t, rec, "")
	if a.Fit == nil {
		t.Fatalf("not fitted: %v", a.NotFitted)
	}
	if len(a.Fit.Warnings) == 0 {
		t.Fatal("the fit does not warn that the sweep is unfinished")
	}
	if len(a.Recommendation.Warnings) == 0 {
		t.Fatal("the recommendation does not warn about its wide interval")
	}
	want := append(append([]string{}, a.Fit.Warnings...), a.Recommendation.Warnings...)
	for _, w := range a.Plan.Warnings {
		if !slices.Contains(want, w) {
			want = append(want, w)
		}
	}
	got := a.Warnings()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("warnings %q, want the fit's then the recommendation's %q", got, want)
	}
	if !strings.Contains(got[0], "12 of 13 steps done") {
		t.Errorf("first warning %q, want the fit's about the unfinished sweep", got[0])
	}
}

func TestWriteProfileIsPlanReadable(t *testing.T) {
	a := sweeptest.Recorded(t, sweeptest.HAProxySweep)
	path := filepath.Join(t.TempDir(), "nested", "profile.yaml")
	if err := a.WriteProfile(path); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	p, err := profiles.Parse(data)
	if err != nil {
		t.Fatalf("the written profile does not parse: %v", err)
	}
	if p.Name != a.Fit.Profile.Name {
		t.Errorf("profile name %q, want the fit's %q", p.Name, a.Fit.Profile.Name)
	}
	if want := a.Fit.Overall.ChosenFit().Cost; p.CPU.CoresPerKRPS != want.CoresPerKRPS || p.CPU.Exponent != want.Exponent {
		t.Errorf("profile cost %s, want the overall fit's %s", p.CPU.CPUCost.Formula(), want.Formula())
	}
}

func TestWriteProfileFailures(t *testing.T) {
	a := sweeptest.Recorded(t, sweeptest.HAProxySweep)
	notDir := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(notDir, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	err := a.WriteProfile(filepath.Join(notDir, "profile.yaml"))
	if err == nil || !strings.HasPrefix(err.Error(), "writing the profile") {
		t.Errorf("writing under a file: %v, want \"writing the profile: ...\"", err)
	}
	none := a.WithoutFit(errors.New("the test's reason"))
	path := filepath.Join(t.TempDir(), "profile.yaml")
	if err := none.WriteProfile(path); err == nil || !strings.Contains(err.Error(), "the test's reason") {
		t.Errorf("writing without a fit: %v, want an error with the reason", err)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a profile was written without a fit: %v", err)
	}
}

func TestWithoutFitKeepsTheSweep(t *testing.T) {
	a := sweeptest.Recorded(t, sweeptest.HAProxySweep)
	none := a.WithoutFit(errors.New("the test's reason"))
	if none.Sweep != a.Sweep || none.Source != a.Source {
		t.Errorf("sweep or source lost: %q", none.Source)
	}
	if none.Fit != nil || none.Plan != nil || none.Annotations != nil || none.Recommendation.Best != nil {
		t.Error("the fit or the choice survived WithoutFit")
	}
	if none.WhyNotFitted() != "the test's reason" {
		t.Errorf("reason %q", none.WhyNotFitted())
	}
	if a.Fit == nil {
		t.Error("WithoutFit changed the analysis it was called on")
	}
}

// On the recorded sweep, two workers under a 500m or a 1-core limit are
// above ceil(limit): they are not chosen unless that is allowed.
func TestRecordedSweepKeepsConcurrencyWithinTheLimit(t *testing.T) {
	a := sweeptest.Recorded(t, sweeptest.HAProxySweep)
	b := a.Recommendation.Best
	if b == nil || !sizing.ConcurrencyFitsLimit(b.Concurrency, b.CPULimitMillicores) {
		t.Fatalf("chosen %+v: above ceil(limit)", b)
	}
	if a.Recommendation.RejectedAboveLimit != 2 {
		t.Errorf("%d settings rejected for concurrency above the limit, want c2-l500m and c2-l1", a.Recommendation.RejectedAboveLimit)
	}
	rec := sweeptest.Load(t, sweeptest.HAProxySweep)
	allowed, err := analysis.Analyze(rec, analysis.Options{Headroom: sizing.DefaultHeadroom, AllowConcurrencyAboveLimit: true})
	if err != nil {
		t.Fatal(err)
	}
	if allowed.Recommendation.RejectedAboveLimit != 0 {
		t.Errorf("allowed, yet %d rejected for it", allowed.Recommendation.RejectedAboveLimit)
	}
}

// The memory annotations of a stand-in sweep come from Envoy's model for the
// configuration assumed (or given), never from haproxy's few MiB: they are
// at least what the model says an Envoy holding it uses.
func TestStandInMemoryAnnotationsAreEnvoys(t *testing.T) {
	envoy, err := profiles.Load(profiles.DefaultName)
	if err != nil {
		t.Fatal(err)
	}
	for _, cfg := range []model.Config{{}, {Clusters: 400, Endpoints: 2000}} {
		rec := sweeptest.Load(t, sweeptest.HAProxySweep)
		a, err := analysis.Analyze(rec, analysis.Options{Headroom: sizing.DefaultHeadroom, Config: cfg})
		if err != nil {
			t.Fatal(err)
		}
		if a.Plan == nil {
			t.Fatalf("no choice: %s", a.Recommendation.NoneMeets)
		}
		assumed := cfg
		if assumed == (model.Config{}) {
			assumed = model.Config{Clusters: sizing.DefaultClusters, Endpoints: sizing.DefaultEndpoints}
		}
		want := envoy.Memory.Estimate(assumed, a.Plan.Concurrency).Total
		request := resource.MustParse(a.Annotations[sizing.AnnotationProxyMemory])
		limit := resource.MustParse(a.Annotations[sizing.AnnotationProxyMemoryLimit])
		if float64(request.Value()) < want || float64(limit.Value()) < want {
			t.Errorf("%+v: memory request %s, limit %s, below Envoy's model %.1f MiB", assumed, request.String(), limit.String(), want/(1<<20))
		}
		if !strings.Contains(a.AnnotationsNote, "measured on haproxy standing in for Envoy") {
			t.Errorf("annotations note %q", a.AnnotationsNote)
		}
	}
}

// The chosen setting's request is at least its point estimate, and the plan
// sized from the fitted profile asks for exactly the same.
func TestRecordedRequestIsAtLeastThePointEstimate(t *testing.T) {
	for _, dir := range []string{sweeptest.HAProxySweep, sweeptest.HAProxyRepeats} {
		a := sweeptest.Recorded(t, dir)
		for _, c := range []*sizing.MeasuredChoice{a.Recommendation.Best, a.Recommendation.RunnerUp} {
			if c == nil {
				continue
			}
			if float64(c.CPURequestMillicores) < c.PointMillicores-1e-6 || float64(c.CPURequestMillicores) < c.Interval.High*1000-1e-6 {
				t.Errorf("%s %s: request %dm below the point %.1fm or the interval's top %.1fm", dir, c.Setting, c.CPURequestMillicores, c.PointMillicores, c.Interval.High*1000)
			}
		}
	}
}
