package sizing

import (
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/version"

	"github.com/proxysizer/proxysizer/model"
)

// LiveHPAInput is an existing HPA and its pod as read from a cluster
// (`proxysizer hpa`), rather than planned from a load figure.
type LiveHPAInput struct {
	// AppCPURequestMillicores is the sum of the app containers' CPU requests.
	AppCPURequestMillicores int64
	// SidecarCPURequestMillicores is the sidecar's CPU request (0: none).
	SidecarCPURequestMillicores int64
	SidecarCPURequestSource     string
	// SidecarCPUAtTargetMillicores is the sidecar's CPU when the app runs at
	// its original absolute target; SidecarCPUAtTargetBasis says where it
	// came from (a measurement, a flag, or the request as an assumption).
	SidecarCPUAtTargetMillicores float64
	SidecarCPUAtTargetBasis      string
	// TargetPercent is the HPA's CPU utilisation target, taken as the one
	// chosen for the app alone.
	TargetPercent int
	AppContainer  string
	// K8sVersion is the server's version (nil: unknown).
	K8sVersion *version.Version
}

// RecalculateHPA applies plan's HPA rules (the request-weighted and
// usage-aware targets, the manifest target and the Resource/ContainerResource
// choice) to figures read from a cluster, with the sidecar's CPU at the app's
// target given directly instead of derived from a cost profile.
func RecalculateHPA(in LiveHPAInput) (HPA, error) {
	if in.SidecarCPURequestMillicores < 0 || in.SidecarCPUAtTargetMillicores < 0 {
		return HPA{}, fmt.Errorf("hpa: sidecar CPU request and usage must be >= 0")
	}
	p := Plan{Sidecar: Sidecar{CPURequestMillicores: in.SidecarCPURequestMillicores}}
	hin := Input{HPA: &HPAInput{
		AppCPURequestMillicores: in.AppCPURequestMillicores,
		TargetPercent:           in.TargetPercent,
		K8sVersion:              in.K8sVersion,
		AppContainer:            in.AppContainer,
	}}
	// With no per-KRPS app cost the sidecar is held at CoresAt(planned RPS):
	// a zero RPS and an intercept equal to the given usage make that the
	// usage itself.
	cost := model.CPUCost{IdleCores: in.SidecarCPUAtTargetMillicores / 1000}
	h, err := recommendHPA(hin, p, cost)
	if err != nil {
		return HPA{}, err
	}
	h.SidecarCPURequestSource = in.SidecarCPURequestSource
	h.SidecarCPUAtAppTargetBasis = in.SidecarCPUAtTargetBasis
	notes := h.Notes[:0]
	for _, n := range h.Notes {
		// plan's load-based assumption does not apply to a live HPA.
		if strings.Contains(n, "--app-cpu-per-krps") {
			continue
		}
		notes = append(notes, n)
	}
	h.Notes = notes
	return h, nil
}

// CleanObject renders an API object as YAML without the empty status and
// creationTimestamp the typed structs always carry.
func CleanObject(obj runtime.Object) ([]byte, error) { return cleanObject(obj) }
