package sizing

// Remark is a sentence (or a short phrase, such as where a figure came
// from) for a reader, in domain words. Kind says what it is about, so that a
// caller can word it its own way: a command names the flag that gives the
// input a remark asks for. JSON and YAML hold the text alone.
type Remark struct {
	Kind RemarkKind
	Text string
}

// RemarkKind names what a remark is about.
type RemarkKind string

// The remarks of the HPA recalculation.
const (
	// RemarkRequestRecommended: the sidecar's request is the plan's
	// recommended one.
	RemarkRequestRecommended RemarkKind = "request-recommended"
	// RemarkRequestGiven: the sidecar's request was given by the caller.
	RemarkRequestGiven RemarkKind = "request-given"
	// RemarkRequestFromCluster: the sidecar's request as read from the
	// cluster; the text says where.
	RemarkRequestFromCluster RemarkKind = "request-from-cluster"
	// RemarkRequestNotFound: no sidecar request was found.
	RemarkRequestNotFound RemarkKind = "request-not-found"

	// RemarkAppTargetAtPlannedLoad is an assumption a caller lifts by giving
	// the app's CPU per 1000 inbound RPS.
	RemarkAppTargetAtPlannedLoad RemarkKind = "app-target-at-planned-load"
	// RemarkSidecarAboveRequest warns that the sidecar needs more than its
	// request at the app's target.
	RemarkSidecarAboveRequest RemarkKind = "sidecar-above-request"
	// RemarkContainerRequestsNeeded: every container needs a CPU request
	// for the Resource metric.
	RemarkContainerRequestsNeeded RemarkKind = "container-requests-needed"

	// RemarkMetricVersionUnknown: the Resource metric was chosen because the
	// cluster's version is not known (a caller lifts it by giving it).
	RemarkMetricVersionUnknown RemarkKind = "metric-version-unknown"
	// RemarkMetricContainerResource: the ContainerResource metric, on by
	// default at the cluster's version.
	RemarkMetricContainerResource RemarkKind = "metric-container-resource"
	// RemarkMetricFeatureGated: the Resource metric, ContainerResource being
	// behind a feature gate at the cluster's version.
	RemarkMetricFeatureGated RemarkKind = "metric-feature-gated"

	// RemarkNoSidecarFound is an assumption about a live HPA's pod a caller
	// lifts by giving the sidecar's CPU request.
	RemarkNoSidecarFound RemarkKind = "no-sidecar-found"
	// RemarkSidecarUsageAssumed is an assumption a caller lifts by giving
	// the sidecar's measured CPU at the app's target.
	RemarkSidecarUsageAssumed RemarkKind = "sidecar-usage-assumed"
	// RemarkOriginalTarget: the live HPA's target is taken as chosen for
	// the app alone.
	RemarkOriginalTarget RemarkKind = "original-target"
	// RemarkMissingCPURequest warns of a container without a CPU request.
	RemarkMissingCPURequest RemarkKind = "missing-cpu-request"
	// RemarkContainerMetricInPlace: the live HPA already targets the app
	// container alone.
	RemarkContainerMetricInPlace RemarkKind = "container-metric-in-place"
)

func (r Remark) String() string { return r.Text }

// MarshalText writes the text: remarks are read by people.
func (r Remark) MarshalText() ([]byte, error) { return []byte(r.Text), nil }

// UnmarshalText reads the text back (the kind is not stored).
func (r *Remark) UnmarshalText(b []byte) error {
	r.Text = string(b)
	return nil
}

// IsZero reports an empty remark, which `omitzero` fields leave out.
func (r Remark) IsZero() bool { return r.Text == "" }

// Texts is the text of each remark.
func Texts(rs []Remark) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.Text
	}
	return out
}

// SidecarBasisKind says where the sidecar's CPU at the app's target comes
// from.
type SidecarBasisKind string

const (
	// BasisAppCost ties the sidecar's cost to the app's CPU per 1000
	// inbound RPS.
	BasisAppCost SidecarBasisKind = "app-cost"
	// BasisPlannedLoad holds the sidecar at its CPU at the planned per-pod
	// load.
	BasisPlannedLoad SidecarBasisKind = "planned-load"
	// BasisGiven is a figure given directly (a measurement).
	BasisGiven SidecarBasisKind = "given"
	// BasisRequest assumes the sidecar's request.
	BasisRequest SidecarBasisKind = "request"
)

// SidecarCPUBasis says where the sidecar's CPU at the app's target comes
// from, with the figures behind it, so that a caller can word it its own
// way. JSON and YAML hold the text alone.
type SidecarCPUBasis struct {
	Kind SidecarBasisKind
	Text string
	// With BasisAppCost: the app's cost and the rates at its target.
	AppCoresPerKRPS, InboundRPSAtTarget, SidecarRPSAtTarget float64
	// With BasisPlannedLoad: the planned sidecar RPS per pod.
	PlannedSidecarRPS float64
}

func (b SidecarCPUBasis) String() string { return b.Text }

// MarshalText writes the text.
func (b SidecarCPUBasis) MarshalText() ([]byte, error) { return []byte(b.Text), nil }

// UnmarshalText reads the text back.
func (b *SidecarCPUBasis) UnmarshalText(t []byte) error {
	b.Text = string(t)
	return nil
}
