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
// journal a person names), and which trusts nothing in a journal it did
// not check: the names' syntax and only the managed keys (ParseJournal).
// Prometheus queries are in cluster/prom. A configuration that cannot be
// loaded or an unknown context is an *input.Error naming the kubeconfig or
// the context.
//
// Every call is bounded in time: rollouts by their timeout, every request
// by the caller's context and Access.Timeout (connecting and TLS included).
package cluster
