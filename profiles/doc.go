// Package profiles owns sidecar cost profiles: the published Istio reference
// figures (embedded, one per row of the Istio "Performance and scalability"
// pages) and the YAML format that a measured sweep writes, so that sizing reads
// both the same way. A profile says what it describes (proxy, version, setup)
// and where its numbers come from; the reference figures' sources are in
// docs/sources.md.
package profiles
