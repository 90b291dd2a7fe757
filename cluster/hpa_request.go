package cluster

import (
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/proxysizer/proxysizer/internal/input"
	"github.com/proxysizer/proxysizer/internal/quantity"
	"github.com/proxysizer/proxysizer/sizing"
)

// FieldHPA is the HPA to recalculate, as its problems name it.
const FieldHPA input.Field = "HPA name"

// HPARequest is a live HPA's recalculation as a person asks for it: the
// HPA's name, and what the person knows better than the cluster (the
// sidecar's CPU usage at the app's target and its request as CPU
// quantities, the app container), with which fields were given at all.
// Options checks it.
type HPARequest struct {
	Name              string
	SidecarCPUUsage   string
	SidecarCPURequest string
	AppContainer      string

	Given map[input.Field]bool
	Names input.Names
}

// Options checks the request and builds the recalculation's options (the
// remarks named through Names). Each problem is an *input.Error naming its
// field.
func (r HPARequest) Options() (HPAOptions, error) {
	n := r.Names
	o := HPAOptions{AppContainer: r.AppContainer, Names: n}
	if len(validation.IsDNS1123Subdomain(r.Name)) > 0 {
		return o, n.Errorf(FieldHPA, "expected a Kubernetes object name, got %q", r.Name)
	}
	if r.Given[sizing.FieldSidecarCPUUsage] {
		m, err := quantity.ParseMillicores(r.SidecarCPUUsage)
		if err != nil {
			return o, n.Errorf(sizing.FieldSidecarCPUUsage, "expected a CPU quantity within %s such as 180m, got %q", quantity.CPURange, r.SidecarCPUUsage)
		}
		o.SidecarCPUAtTargetMillicores = float64(m)
	}
	if r.Given[sizing.FieldSidecarCPURequest] {
		m, err := quantity.ParseMillicores(r.SidecarCPURequest)
		if err != nil {
			return o, n.Errorf(sizing.FieldSidecarCPURequest, "expected a CPU quantity within %s such as 100m, got %q", quantity.CPURange, r.SidecarCPURequest)
		}
		o.SidecarCPURequestMillicores = m
	}
	if r.Given[sizing.FieldAppContainer] && len(validation.IsDNS1123Label(r.AppContainer)) > 0 {
		return o, n.Errorf(sizing.FieldAppContainer, "expected a container name, got %q", r.AppContainer)
	}
	return o, nil
}
