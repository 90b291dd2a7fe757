// Package hpareplay replays a live HPA on its workload's own history: from
// the per-pod, per-container CPU series Prometheus holds over a window
// (and kube-state-metrics' pod series when it is scraped) it builds what
// the pods used together (the load), the pods' lifecycles, and the
// relation between the sidecar's CPU and the app's; then it runs the HPA
// controller's algorithm (package hpasim) three times on that load, each
// run with its own pods: the HPA's current target, proxysizer's
// recommended one, and the app-only reference (the same target on the
// pods without the sidecar, as the HPA behaved before the sidecar shared
// the pods). The report gives the replicas of each run at every sync, the
// minutes during which each run differs from the reference, and a reading
// of the result. It does no I/O: the cluster and Prometheus are read by
// package hpareplay/collect.
package hpareplay
