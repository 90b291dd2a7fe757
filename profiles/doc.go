// Package profiles owns sidecar cost profiles: the published Istio reference
// figures (embedded, one per row of the Istio "Performance and scalability"
// pages, and an Istio maintainer's curve) and the YAML format that a measured
// sweep writes (schema version 2: each setting's cost curve with its
// uncertainty and the model not chosen, capacities marked when only lower
// bounds, the stand-in marker; version 1 still loads), so that sizing reads
// both the same way. A profile says what it describes (proxy, version, setup)
// and where its numbers come from; the reference figures' sources are in
// docs/sources.md. A profile file is read bounded (a regular file of at most
// 1 MiB) and every number in it is finite and within its range (bounds.go),
// whatever schema version adds, so that no plan sizes from an absurd figure.
package profiles
