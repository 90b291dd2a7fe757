// Package sizing turns a load (per-pod RPS and fan-out), a cost profile and a
// configuration size into a sidecar recommendation: CPU and memory requests and
// limits, Envoy concurrency, and the HPA target that keeps the app's original
// absolute CPU target once the sidecar shares the pod. Every figure carries the
// reason it was chosen. From a sweep's measured settings it chooses one
// (ChooseMeasured): the CPU request is the upper end of the 95% prediction
// interval at the peak, settings whose intervals overlap are indistinguishable
// and a stated rule breaks the tie, capacities that are only lower bounds are
// not stretched, and Istio's ceil(CPU limit) rule holds; DefaultWorkers says
// what Istio and Envoy run without the concurrency annotation. A Request is a plan as a person asks for it; its Input
// method checks it, and names each problem's field as an *input.Error. Reasons
// and problems name inputs in sizing's words unless the caller passes its own
// (input.Names: the CLI's flags). Like the VPA recommender's logic package it
// is pure: it does no I/O, and renders manifests to bytes for the caller to
// write.
package sizing
