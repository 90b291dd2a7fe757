package cluster

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/proxysizer/proxysizer/internal/input"
	"github.com/proxysizer/proxysizer/profiles"
	"github.com/proxysizer/proxysizer/sizing"
)

func wantInputError(t *testing.T, err error, want string) {
	t.Helper()
	var bad *input.Error
	if !errors.As(err, &bad) || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("got %v, want an input error starting %q", err, want)
	}
}

func TestHPARequestOptions(t *testing.T) {
	given := map[input.Field]bool{sizing.FieldSidecarCPUUsage: true, sizing.FieldSidecarCPURequest: true, sizing.FieldAppContainer: true}
	flags := input.Names{sizing.FieldSidecarCPUUsage: "--sidecar-cpu-usage"}
	o, err := HPARequest{Name: "web", SidecarCPUUsage: "180m", SidecarCPURequest: "0.1", AppContainer: "app", Given: given, Names: flags}.Options()
	if err != nil {
		t.Fatal(err)
	}
	if o.SidecarCPUAtTargetMillicores != 180 || o.SidecarCPURequestMillicores != 100 || o.AppContainer != "app" || o.Names.Of(sizing.FieldSidecarCPUUsage) != "--sidecar-cpu-usage" {
		t.Errorf("options %+v", o)
	}
	// What is not given is not read: the cluster's figures stand.
	if o, err := (HPARequest{Name: "web"}).Options(); err != nil || o.SidecarCPUAtTargetMillicores != 0 || o.SidecarCPURequestMillicores != 0 {
		t.Errorf("nothing given: %+v %v", o, err)
	}
	_, err = HPARequest{Name: "web", SidecarCPUUsage: "lots", Given: given, Names: flags}.Options()
	wantInputError(t, err, `--sidecar-cpu-usage: expected a CPU quantity within 1m..1000 such as 180m, got "lots"`)
	_, err = HPARequest{Name: "web", SidecarCPUUsage: "1", SidecarCPURequest: "-1", Given: given}.Options()
	wantInputError(t, err, `sidecar CPU request: expected a CPU quantity within 1m..1000 such as 100m, got "-1"`)
	_, err = HPARequest{Name: "web", SidecarCPUUsage: "1", SidecarCPURequest: "1", AppContainer: "A B", Given: given}.Options()
	wantInputError(t, err, `app container: expected a container name, got "A B"`)
	_, err = HPARequest{Name: "Web_1"}.Options()
	wantInputError(t, err, `HPA name: expected a Kubernetes object name, got "Web_1"`)
}

func TestInventoryRequest(t *testing.T) {
	r := DefaultInventoryRequest()
	o, err := r.Options()
	if err != nil || o.ClusterDomain != DefaultClusterDomain || o.RootNamespace != DefaultMeshNamespace || r.Concurrency != 2 {
		t.Errorf("defaults: %+v %d %v", o, r.Concurrency, err)
	}
	r.Concurrency = 0
	_, err = r.Options()
	wantInputError(t, err, "concurrency: expected a worker count within 1..256, got 0")
	r = DefaultInventoryRequest()
	r.ClusterDomain = "-x"
	_, err = r.Options()
	wantInputError(t, err, `cluster domain: expected a DNS domain such as cluster.local, got "-x"`)

	// The report prices each scope with the profile's memory model, and
	// names the plan's inputs as the caller does.
	if r.Profile, err = profiles.Load(profiles.DefaultName); err != nil {
		t.Fatal(err)
	}
	r.Names = input.Names{sizing.FieldClusters: "--clusters", sizing.FieldEndpoints: "--endpoints"}
	small := SidecarScope{Namespace: "shop", Name: "default", Scope: Scope{Services: 2, Clusters: 3, Endpoints: 8}}
	rep := r.Report(&Inventory{Namespace: "shop", Unscoped: Scope{Services: 50, Clusters: 90, Endpoints: 700}, Sidecars: []SidecarScope{small}, Default: &small})
	if rep.Default == nil || rep.Default.Scope.PlanFlags != "--clusters 3 --endpoints 8" || rep.Unscoped.PlanFlags != "--clusters 90 --endpoints 700" {
		t.Fatalf("plan flags %+v", rep)
	}
	if rep.Default.Scope.MemoryBytes >= rep.Unscoped.MemoryBytes || rep.Default.Scope.MemoryBytes <= 0 {
		t.Errorf("memory %v scoped, %v unscoped: want less for the smaller scope", rep.Default.Scope.MemoryBytes, rep.Unscoped.MemoryBytes)
	}
	var b bytes.Buffer
	if err := rep.WriteTable(&b); err != nil || !strings.Contains(b.String(), "default Sidecar shop/default") || strings.Count(b.String(), "--clusters 3") != 1 {
		t.Errorf("table (the default Sidecar once):\n%s", b.String())
	}
}

func TestRestoreRequestJournalPath(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "j.json")
	if err := WriteJournal(good, &Journal{Version: JournalVersion, Tool: "proxysizer", Namespace: "shop", Deployment: "web", ManagedKeys: []string{sizing.AnnotationProxyCPU}}); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(bad, []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	flags := input.Names{FieldJournal: "--journal", FieldDeployment: "--deployment", FieldNamespace: "--namespace"}
	if p, err := (RestoreRequest{Journal: good, Names: flags}).JournalPath(); err != nil || p != good {
		t.Errorf("the journal given: %q %v", p, err)
	}
	for _, tt := range []struct {
		r    RestoreRequest
		want string
	}{
		{RestoreRequest{}, "--journal: required: the journal file of the sweep to undo (or --deployment with --namespace"},
		{RestoreRequest{Journal: good, Deployment: "web"}, "--deployment: give either --journal or --deployment (with --namespace), not both"},
		{RestoreRequest{Deployment: "Web_1", Namespace: "shop"}, `--deployment: expected a Deployment name, got "Web_1"`},
		{RestoreRequest{Deployment: "web"}, "--namespace: required with --deployment"},
		{RestoreRequest{Journal: filepath.Join(dir, "none.json")}, "--journal: no journal at"},
		{RestoreRequest{Journal: bad}, "--journal: "},
	} {
		tt.r.Names = flags
		_, err := tt.r.JournalPath()
		wantInputError(t, err, tt.want)
	}
}

// The live HPA's table carries where the app scales now and the HPA
// core's rows; the manifest is the corrected HPA, or a comment.
func TestHPAReportRendering(t *testing.T) {
	r, err := RecalculateHPA(readView(t, hpaOn(cpuUtilisation(70)), "v1.26.3"), HPAOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var table, manifest bytes.Buffer
	if err := r.WriteTable(&table); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"HPA shop/web -> deployment web (server v1.26.3)", "app scales now at      320m  70% of 600m minus the sidecar's 100m",
		"HPA (CPU)\n  requests", "request-weighted target    58.3%", "ASSUMPTIONS\n  - the sidecar's CPU at the app's target is taken as its request"} {
		if !strings.Contains(table.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, table.String())
		}
	}
	if err := r.WriteManifest(&manifest); err != nil {
		t.Fatal(err)
	}
	if m := manifest.String(); !strings.HasPrefix(m, "# HorizontalPodAutoscaler shop/web corrected for its sidecar: Resource metric at 75%: Kubernetes 1.26.3") || !strings.Contains(m, "averageUtilization: 75") {
		t.Errorf("manifest:\n%s", m)
	}
	r.Corrected = nil
	manifest.Reset()
	if err := r.WriteManifest(&manifest); err != nil || manifest.String() != "# HPA shop/web: nothing to correct (Resource cpu at 70%)\n" {
		t.Errorf("nothing to correct: %q %v", manifest.String(), err)
	}
}
