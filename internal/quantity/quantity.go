// Package quantity reads and writes Kubernetes resource quantities (CPU in
// millicores, memory in bytes) through apimachinery's resource package, so
// flags, annotations and reports spell them as kubectl does.
package quantity

import (
	"fmt"

	"k8s.io/apimachinery/pkg/api/resource"
)

// Millicores formats millicores as Kubernetes writes them: 250m, 1, 1500m.
func Millicores(m int64) string {
	return resource.NewMilliQuantity(m, resource.DecimalSI).String()
}

// Bytes formats bytes as a binary quantity: 128Mi, 1Gi.
func Bytes(b int64) string {
	return resource.NewQuantity(b, resource.BinarySI).String()
}

// ParseMillicores reads a CPU quantity (1, 500m, 1.5), which must be > 0.
func ParseMillicores(s string) (int64, error) {
	q, err := resource.ParseQuantity(s)
	if err != nil {
		return 0, err
	}
	if q.Sign() <= 0 {
		return 0, fmt.Errorf("quantity %q is not > 0", s)
	}
	return q.MilliValue(), nil
}
