package check

import (
	"strings"
	"testing"
)

const helmOutput = `---
# Source: shop/templates/service.yaml
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector: {app: web}
  ports: [{name: http, port: 80}]
---
# Source: shop/templates/hpa.yaml
apiVersion: autoscaling/v1
kind: HorizontalPodAutoscaler
metadata: {name: web}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
  maxReplicas: 5
  targetCPUUtilizationPercentage: 65
---
# an empty document (helm renders these for disabled templates)
---
apiVersion: v1
kind: List
items:
- apiVersion: networking.istio.io/v1beta1
  kind: DestinationRule
  metadata: {name: web, namespace: other}
  spec: {host: web, trafficPolicy: {outlierDetection: {consecutive5xxErrors: 2}}, futureField: 1}
- apiVersion: v1
  kind: ConfigMap
  metadata: {name: unrelated}
`

func TestReadManifestsFromHelmOutput(t *testing.T) {
	s, err := ReadPaths([]string{StdinName}, strings.NewReader(helmOutput), "shop")
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Services) != 1 || s.Services[0].Namespace != "shop" {
		t.Fatalf("services %+v: want web in the default namespace shop", s.Services)
	}
	if len(s.HPAs) != 1 || *s.HPAs[0].Spec.Metrics[0].Resource.Target.AverageUtilization != 65 {
		t.Fatalf("the autoscaling/v1 HPA was not read as a 65%% CPU utilisation metric: %+v", s.HPAs)
	}
	if len(s.DestinationRules) != 1 || s.DestinationRules[0].Namespace != "other" || s.DestinationRules[0].Spec.GetTrafficPolicy().GetOutlierDetection().GetConsecutive_5XxErrors().GetValue() != 2 {
		t.Fatalf("the List's DestinationRule (with an unknown field) was not read: %+v", s.DestinationRules)
	}
	if s.Skipped != 1 {
		t.Errorf("skipped %d, want 1 (the ConfigMap)", s.Skipped)
	}
	o, _ := s.Origin(Ref{Kind: "HorizontalPodAutoscaler", Namespace: "shop", Name: "web"})
	if o.Template != "shop/templates/hpa.yaml" || o.File != "" || o.Line != 12 {
		t.Errorf("origin %+v: want the helm template and line 12 of stdin", o)
	}
}

func TestReadManifestsRejectsBadInput(t *testing.T) {
	for name, doc := range map[string]string{
		"not YAML":      "kind: Deployment\n  bad: [",
		"no kind":       "apiVersion: v1\nmetadata: {name: x}\n",
		"wrong types":   "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec: {replicas: many}\n",
		"bad Istio CRD": "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: v}\nspec: {hosts: 3}\n",
	} {
		s := &Set{}
		err := s.ReadManifests([]byte("apiVersion: v1\nkind: Service\nmetadata: {name: ok}\n---\n"+doc), "f.yaml", "default")
		if err == nil {
			t.Errorf("%s: accepted", name)
			continue
		}
		if !strings.Contains(err.Error(), "f.yaml line 5") {
			t.Errorf("%s: %v: want the file and the document's line", name, err)
		}
	}
}

func TestSplitDocumentsKeepsLines(t *testing.T) {
	docs := splitDocuments([]byte("a: 1\n---\n# c\n\nb: 2\n--- # x\nc: 3\n---\n"))
	if len(docs) != 3 || docs[0].line != 1 || docs[1].line != 5 || docs[2].line != 7 {
		t.Fatalf("documents %+v", docs)
	}
}
