package profiles

import (
	"math"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// FuzzParse: no profile file makes Parse panic or hang, and every profile
// it accepts is valid, within its ranges, and reads back the same from
// what Marshal writes (the format fit writes and plan reads).
func FuzzParse(f *testing.F) {
	refs, _ := filepath.Glob(filepath.Join("reference", "*.yaml"))
	for _, ref := range refs {
		data, err := os.ReadFile(ref)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	head := "schema_version: 1\nname: x\nkind: measured\ncomponent: sidecar\nproxy: p\nprovenance: {source: s, setup: s}\n"
	for _, seed := range []string{
		head + "cpu: {idle_cores: 1e308, cores_per_krps: 0.2}\nmemory: {base_bytes: 1}\n",
		head + "cpu: {idle_cores: .nan, cores_per_krps: .inf}\nmemory: {base_bytes: 1}\n",
		head + "cpu: {idle_cores: 0, cores_per_krps: 1e-300, max_rps_per_core: 1e300}\nmemory: {base_bytes: 1e30}\n",
		head + "cpu: {cores_per_krps: 0.2, by_concurrency: [{concurrency: 99999999999999999999, cpu_limit_millicores: -1}]}\nmemory: {base_bytes: 1}\n",
		head + "cpu: &a {cores_per_krps: 0.2}\nmemory: *a\n",
		"schema_version: 1\nname: [a, *b]\n",
		"{\"schema_version\": 1, \"name\": \"j\", \"kind\": \"reference\", \"cpu\": {\"cores_per_krps\": 1}, \"memory\": {\"base_bytes\": 1}}",
		"a: &a [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n",
		"",
		"\x00\xff",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Parse(data)
		if err != nil {
			return
		}
		if err := p.Validate(); err != nil {
			t.Fatalf("Parse accepted an invalid profile: %v", err)
		}
		if c := p.WorkerCapacity(); math.IsNaN(c.RPSPerWorker) || math.IsInf(c.RPSPerWorker, 0) || c.RPSPerWorker <= 0 {
			t.Fatalf("worker capacity %v", c.RPSPerWorker)
		}
		out, err := Marshal(p)
		if err != nil {
			t.Fatalf("Marshal: %v", err)
		}
		back, err := Parse(out)
		if err != nil {
			t.Fatalf("the profile Marshal wrote does not parse: %v\n%s", err, out)
		}
		if !reflect.DeepEqual(back, p) {
			t.Fatalf("round trip changed the profile:\n%+v\n%+v", p, back)
		}
	})
}
