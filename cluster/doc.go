// Package cluster is proxysizer's access to a live Kubernetes cluster, apart
// from any sweep: clients from kubeconfig, context or the in-cluster service
// account (Access); workloads with a pod template and their pods
// (Workload); HPAs and what their CPU target means for the pods (ReadHPA,
// RecalculateHPA, as a person asks for it: HPARequest; the report's table
// and corrected manifest); Istio's mesh configuration (ReadMeshConfig); a
// workload's sidecar and its resources (FindSidecar); the services and
// endpoints a sidecar in a namespace would hold (ReadInventory) and the
// memory a profile expects for them (InventoryRequest.Report); and the
// annotation controller, which changes a Deployment's Istio sidecar
// settings one setting at a time, waits for each rollout, and puts the
// original annotations back exactly, from the journal it writes before the
// first patch (Controller, RestoreFromJournal; RestoreRequest finds the
// journal a person names). Prometheus queries are in
// cluster/prom.
//
// Every call is bounded in time: rollouts by their timeout, every request
// by the caller's context.
package cluster
