//go:build integration

package cmd

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/proxysizer/proxysizer/internal/kubeharness"
)

// check against the control plane, through the CLI: the cluster is the
// source when no -f is given, findings reach --fail-on, SARIF carries them.
func TestCheckLiveNamespace(t *testing.T) {
	harness.InstallSidecarCRD(t)
	ns := harness.Namespace(t, "check")
	ctx := context.Background()
	n, err := harness.Client.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	n.Labels["istio-injection"] = "enabled"
	if _, err := harness.Client.CoreV1().Namespaces().Update(ctx, n, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	// kubeharness's Deployment: no Istio annotations, a zero grace period.
	harness.CreateDeployment(t, kubeharness.NewDeployment(ns, "api", 1, nil))

	code, out, stderr := run(t, "check", "--kubeconfig", harness.Kubeconfig, "-n", ns, "deployment/api", "--fail-on", "warning", "-o", "sarif")
	if code != exitFindings {
		t.Fatalf("exit %d, want %d (stderr %q)", code, exitFindings, stderr)
	}
	var log struct {
		Runs []struct {
			Results []struct {
				RuleID    string `json:"ruleId"`
				Locations []struct {
					Logical []struct {
						FQN string `json:"fullyQualifiedName"`
					} `json:"logicalLocations"`
				} `json:"locations"`
			} `json:"results"`
		} `json:"runs"`
	}
	if err := json.Unmarshal([]byte(out), &log); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	rules := map[string]bool{}
	for _, r := range log.Runs[0].Results {
		rules[r.RuleID] = true
		if fqn := r.Locations[0].Logical[0].FQN; !strings.Contains(fqn, ns+"/api") {
			t.Errorf("%s located at %q, want the Deployment %s/api", r.RuleID, fqn, ns)
		}
	}
	// Unannotated on 1.33.4 without an istiod: Istio's defaults apply, and
	// its 5s drain exceeds the Deployment's zero grace period.
	for _, id := range []string{"PS101", "PS102", "PS104", "PS302"} {
		if !rules[id] {
			t.Errorf("%s missing from %v", id, rules)
		}
	}
	if rules["PS103"] {
		t.Error("PS103 fired on a container without a preStop hook")
	}
	if rules["PS401"] {
		t.Error("PS401 is about the namespace, not deployment/api: the workload filter should drop it")
	}

	code, out, stderr = run(t, "check", "--kubeconfig", harness.Kubeconfig, "-n", ns, "--only", "PS401", "--fail-on", "warning")
	if code != exitFindings || !strings.Contains(out, "Namespace "+ns) {
		t.Errorf("PS401 on the namespace: exit %d, %q %q", code, out, stderr)
	}
	code, _, stderr = run(t, "check", "--kubeconfig", harness.Kubeconfig, "-n", "does-not-exist")
	if code != exitFailure || !strings.Contains(stderr, "does-not-exist") {
		t.Errorf("a missing namespace: exit %d, %q", code, stderr)
	}
}
