package prom

import (
	"fmt"
	"regexp"
)

// PodLabel is the label Prometheus' Kubernetes pod discovery gives the
// scraped pod's name (Istio's and the Prometheus Operator's scrape
// configurations relabel __meta_kubernetes_pod_name to it), and cAdvisor
// gives its containers' pod.
const PodLabel = "pod"

// Pod names: a Deployment's pods are named <deployment>-<pod-template-hash>-<5
// random characters>, both generated parts from Kubernetes' safe alphabet
// (no vowels, no 0, 1 or 3); a StatefulSet's are <statefulset>-<ordinal>.
const (
	safeAlphabet = "[bcdfghjklmnpqrstvwxz2456789]"
	// generatedSuffix is what a Deployment adds to its name, after a dash.
	generatedSuffix = safeAlphabet + "{1,10}-" + safeAlphabet + "{5}"
	// PodNamePattern reads a Deployment's pod name and a StatefulSet's: its
	// lazy name part takes the earliest split that leaves a Deployment's
	// two parts or a StatefulSet's ordinal, so the Deployment's reading
	// wins where both fit (a suffix of digits only, such as 24567).
	PodNamePattern = "(.+?)-(?:" + generatedSuffix + "|[0-9]+)"
)

// DeploymentPods is the pattern of the names of one Deployment's pods, so
// that the pods of a Deployment named "web" do not match those of "web-api".
func DeploymentPods(deployment string) string {
	return regexp.QuoteMeta(deployment) + "-" + generatedSuffix
}

// WorkloadLabel wraps expr, whose series carry the pod label, so that they
// also carry "workload", derived from the pod's name by PodNamePattern:
// cAdvisor and Envoy series name the pod only, and a fixed number of
// queries can aggregate by workload only if Prometheus derives it. A series
// whose pod matches neither naming (a DaemonSet's, a bare pod's) keeps no
// workload label.
func WorkloadLabel(expr string) string {
	return fmt.Sprintf(`label_replace(%s, "workload", "$1", %q, %q)`, expr, PodLabel, PodNamePattern)
}
