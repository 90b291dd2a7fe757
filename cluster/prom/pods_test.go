package prom

import (
	"regexp"
	"testing"
)

// workloadOfPod is the workload name a pod's name implies, by the rule
// WorkloadLabel applies inside Prometheus (RE2, as Go's regexp); "" for
// neither a Deployment's nor a StatefulSet's pod.
func workloadOfPod(pod string) string {
	if m := regexp.MustCompile("^(?:" + PodNamePattern + ")$").FindStringSubmatch(pod); m != nil {
		return m[1]
	}
	return ""
}

func TestWorkloadOfPodFollowsKubernetesNaming(t *testing.T) {
	for pod, want := range map[string]string{
		"web-7c9bd8f5b4-x2x4z":    "web",         // Deployment: name-hash-suffix
		"api-gateway-6d4f5-24567": "api-gateway", // an all-digit suffix is still a Deployment's
		"db-0":                    "db",          // StatefulSet
		"kafka-broker-12":         "kafka-broker",
		"node-exporter-x2x4z":     "", // a DaemonSet's: one suffix only
		"standalone":              "",
		"web-7c9bd8f5b4-aeiou":    "", // vowels are not in Kubernetes' alphabet
		"cart-v2-55f8b7c9d-q9w8z": "cart-v2",
	} {
		if got := workloadOfPod(pod); got != want {
			t.Errorf("workloadOfPod(%q) = %q, want %q", pod, got, want)
		}
	}
}

// A Deployment's pod names: "web" does not match the pods of "web-api"
// nor a ReplicaSet's name, and the pods it matches are web's by the
// fleet queries' rule too.
func TestDeploymentPods(t *testing.T) {
	re := regexp.MustCompile("^(?:" + DeploymentPods("web") + ")$")
	for pod, want := range map[string]bool{
		"web-7d9f5c8b6-x2vzq": true, "web-5b8-kkq2w": true,
		"web-api-7d9f5c8b6-x2vzq": false, "web-7d9f5c8b6": false, "web-7d9f5c8b6-x2vz": false, "web-7a9f5c8b6-x2vzq": false,
	} {
		if got := re.MatchString(pod); got != want {
			t.Errorf("%s: %v, want %v", pod, got, want)
		}
		if want && workloadOfPod(pod) != "web" {
			t.Errorf("%s: workload %q by PodNamePattern, want web", pod, workloadOfPod(pod))
		}
	}
}
