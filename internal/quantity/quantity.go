// Package quantity reads and writes Kubernetes resource quantities (CPU in
// millicores, memory in bytes) through apimachinery's resource package, so
// flags, annotations and reports spell them as kubectl does.
package quantity

import (
	"fmt"

	"k8s.io/apimachinery/pkg/api/resource"
)

// MaxMillicores bounds every CPU quantity proxysizer reads: 1000 cores,
// above the largest machines' few hundred. A larger quantity (1Ei) would
// overflow int64 millicores.
const MaxMillicores = 1_000_000

// CPURange says the range of a CPU quantity in messages.
const CPURange = "1m..1000"

var maxCPU = resource.NewMilliQuantity(MaxMillicores, resource.DecimalSI)

// Millicores formats millicores as Kubernetes writes them: 250m, 1, 1500m.
func Millicores(m int64) string {
	return resource.NewMilliQuantity(m, resource.DecimalSI).String()
}

// Bytes formats bytes as a binary quantity: 128Mi, 1Gi.
func Bytes(b int64) string {
	return resource.NewQuantity(b, resource.BinarySI).String()
}

// ParseMillicores reads a CPU quantity (1, 500m, 1.5) within
// 1m..MaxMillicores; a quantity finer than a millicore rounds up to one,
// as Kubernetes does.
func ParseMillicores(s string) (int64, error) {
	q, err := resource.ParseQuantity(s)
	if err != nil {
		return 0, err
	}
	if q.Sign() <= 0 {
		return 0, fmt.Errorf("quantity %q is not > 0", s)
	}
	if q.Cmp(*maxCPU) > 0 {
		return 0, fmt.Errorf("quantity %q is above %d cores", s, MaxMillicores/1000)
	}
	return q.MilliValue(), nil
}
