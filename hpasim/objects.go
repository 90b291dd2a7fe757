package hpasim

import (
	"time"

	corev1 "k8s.io/api/core/v1"
)

// ContainersOf lists a pod's containers as the HPA counts their requests:
// the regular containers and the native sidecars.
func ContainersOf(spec corev1.PodSpec) []Container {
	var out []Container
	add := func(c corev1.Container, native bool) {
		q, ok := c.Resources.Requests[corev1.ResourceCPU]
		out = append(out, Container{Name: c.Name, CPURequestMillicores: q.MilliValue(), HasCPURequest: ok, NativeSidecar: native})
	}
	for _, c := range spec.Containers {
		add(c, false)
	}
	for _, c := range spec.InitContainers {
		if c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways {
			add(c, true)
		}
	}
	return out
}

// StateOf is a pod object's state as the controller reads it, visible from
// at on.
func StateOf(p *corev1.Pod, at time.Time) PodState {
	s := PodState{From: at, Phase: string(p.Status.Phase), Deleting: p.DeletionTimestamp != nil}
	if p.Status.StartTime != nil {
		s.StartTime = p.Status.StartTime.Time
	}
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			s.Ready, s.ReadySince = string(c.Status), c.LastTransitionTime.Time
		}
	}
	return s
}
