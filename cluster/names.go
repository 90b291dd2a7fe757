package cluster

import (
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/proxysizer/proxysizer/internal/input"
)

// The mesh's names a caller gives, as their problems name them.
const (
	FieldIstioNamespace input.Field = "Istio namespace"
	FieldClusterDomain  input.Field = "cluster domain"
)

// CheckMeshNames checks Istio's namespace (a namespace name) and the
// cluster's DNS domain (a DNS subdomain); an empty one is not checked.
// A problem is an *input.Error named through n.
func CheckMeshNames(istioNamespace, clusterDomain string, n input.Names) error {
	if istioNamespace != "" && len(validation.IsDNS1123Label(istioNamespace)) > 0 {
		return n.Errorf(FieldIstioNamespace, "expected a namespace name, got %q", istioNamespace)
	}
	if clusterDomain != "" && len(validation.IsDNS1123Subdomain(clusterDomain)) > 0 {
		return n.Errorf(FieldClusterDomain, "expected a DNS domain such as cluster.local, got %q", clusterDomain)
	}
	return nil
}
