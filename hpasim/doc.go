// Package hpasim replays the Horizontal Pod Autoscaler on recorded CPU
// usage: at each sync it makes the decision kube-controller-manager's HPA
// controller (Kubernetes v1.33, pkg/controller/podautoscaler) makes for CPU
// Resource and ContainerResource metrics, from the same inputs: the pods the
// selector matches as the controller's cache holds them (phase, start time,
// Ready condition, deletion), each pod's latest per-container CPU reading,
// and the controller's own memory (recent recommendations, recent scale
// events).
//
// What it reproduces: the sync period; the tolerance; utilisation as the
// controller truncates it; the CPU initialisation period and initial
// readiness delay (which samples of new pods are ignored); missing metrics
// (0% on a scale-up, 100% on a scale-down) and unready pods; the
// scale-down stabilisation window; minReplicas/maxReplicas; the legacy
// scale-up limit (max(2 x current, 4)) of an HPA without behavior, and the
// behavior policies (the API server's defaults: 4 pods or 100% per 15 s up,
// 100% per 15 s down); native sidecars (restartable init containers) in
// the pods' requests from Kubernetes 1.29.
//
// The input is shaped so that a Prometheus range query feeds it directly:
// one Series per (pod, container) of CPU cores, e.g.
//
//	sum by (pod, container) (rate(container_cpu_usage_seconds_total{namespace="NS", pod=~"web-.*", container=~"app|istio-proxy"}[1m]))
//
// evaluated at a step of the metrics resolution, converted with
// MillicoresFromCores; pod lifecycles from kube-state-metrics or the pods'
// first and last samples.
//
// Replay reads a recorded history as it happened: the pods that ran and
// their own usage. ReplayDemand replays another target than the one the
// history ran under: it runs its own pods (added on a scale-up, Ready after
// a start-up; removed on a scale-down as the ReplicaSet controller picks
// them) and spreads the observed load (Demand: each container's CPU summed
// over the pods) over the pods it has ready, so that a run with more pods
// sees less CPU per pod. It does no I/O.
package hpasim
