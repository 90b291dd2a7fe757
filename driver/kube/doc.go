// Package kube is the control half of the Kubernetes backend: it changes a
// live Deployment's Istio sidecar settings (concurrency, CPU and memory
// annotations) one sweep setting at a time, waits for each rollout, and puts
// the original annotations back exactly at the end, on error, on a signal,
// or after a crash from the journal it writes before the first patch.
//
// It also reads what `proxysizer hpa` and `proxysizer inventory` need: an
// HPA with its target Deployment and sidecar, and the services and endpoints
// a sidecar in a namespace would hold.
//
// Every call is bounded in time: rollouts by Config.RolloutTimeout, and
// every request by the caller's context.
package kube
