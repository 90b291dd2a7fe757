package cluster

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"k8s.io/client-go/kubernetes/fake"

	"github.com/proxysizer/proxysizer/internal/kubeharness"
	"github.com/proxysizer/proxysizer/results"
	"github.com/proxysizer/proxysizer/sizing"
)

func TestPlanWithFakeClientReadsOnly(t *testing.T) {
	d := kubeharness.NewDeployment("shop", "web", 1, map[string]string{sizing.AnnotationProxyConfig: "terminationDrainDuration: '5s'\n"})
	client := fake.NewClientset(d)
	c, err := NewForClient(client, "shop", Config{Deployment: "web", JournalPath: t.TempDir() + "/j.json"})
	if err != nil {
		t.Fatal(err)
	}
	p, err := c.Plan(context.Background(), []results.Setting{{Concurrency: 2, CPULimitMillicores: 500}})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range client.Actions() {
		if a.GetVerb() != "get" && a.GetVerb() != "list" {
			t.Errorf("Plan did %s %s", a.GetVerb(), a.GetResource().Resource)
		}
	}
	var b bytes.Buffer
	if err := p.Write(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{"step 1: concurrency 2, CPU limit 500m", `"sidecar.istio.io/proxyCPULimit":"500m"`, `terminationDrainDuration: 5s`, "restore:", `"proxy.istio.io/config":"terminationDrainDuration: '\''5s'\''\n"`} {
		if !strings.Contains(out, want) {
			t.Errorf("plan text lacks %q:\n%s", want, out)
		}
	}
}
