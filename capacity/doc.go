// Package capacity plans the sidecars of a whole mesh from its own traffic:
// for every workload it measures the load (inbound requests per pod at the
// peak, and the requests each inbound call causes through the sidecar:
// outbound calls, authz calls, retries), sets the sidecar's current
// resources and measured usage beside the cost profile's prediction, sizes
// it with the same core as `plan` (sizing.Recommend), prices the Sidecar
// resource its real destinations would allow, and flags the risks (a
// throttled sidecar, usage above its request, concurrency above its CPU
// limit, a container without a CPU request, partial resource annotations).
// Across the fleet it sums requested, recommended and used CPU and memory by
// namespace, and checks the profile against every measured workload.
//
// Like the VPA recommender's logic it is pure: Analyze reads a Fleet (what
// capacity/collect gathered from the cluster and Prometheus) and does no
// I/O; the renderers write to an io.Writer, and WriteFiles writes a report
// directory with the patches for review.
package capacity
