package cluster

import (
	"encoding/json"
	"slices"
	"testing"
)

// FuzzParseJournal: no journal makes the parser panic, and every journal
// it accepts restores only managed keys of a valid namespace and name.
func FuzzParseJournal(f *testing.F) {
	for _, seed := range []string{
		`{"version":1,"tool":"proxysizer","namespace":"shop","deployment":"web","managed_keys":["sidecar.istio.io/proxyCPU"],"original_annotations":{"sidecar.istio.io/proxyCPU":"100m"}}`,
		`{"version":1,"tool":"proxysizer","namespace":"../kube-system","deployment":"web","managed_keys":["sidecar.istio.io/proxyCPU"]}`,
		`{"version":1,"tool":"proxysizer","namespace":"shop","deployment":"web","managed_keys":["kubectl.kubernetes.io/restartedAt"]}`,
		`{"version":1,"tool":"proxysizer","namespace":"shop","deployment":"web","managed_keys":["proxy.istio.io/config"],"original_annotations":{"proxy.istio.io/config":"a: &a [*a,*a,*a]"}}`,
		`{"version":1,"tool":"proxysizer","namespace":"shop","deployment":"web","managed_keys":["sidecar.istio.io/proxyMemory"],"original_annotations":{"sidecar.istio.io/proxyMemory":"1e999999"}}`,
		`{"version":1`, `null`, ``,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		j, err := ParseJournal(data)
		if err != nil {
			return
		}
		for _, k := range j.ManagedKeys {
			if !slices.Contains(ManagedKeys, k) {
				t.Fatalf("accepted a foreign key %q", k)
			}
		}
		if _, err := json.Marshal(j); err != nil {
			t.Fatalf("an accepted journal does not encode: %v", err)
		}
	})
}
