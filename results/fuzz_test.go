package results

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse (the sweep.json loader): no record makes Parse panic, and
// every record it accepts names only files inside its directory and
// encodes again (every number finite).
func FuzzParse(f *testing.F) {
	for _, dir := range []string{"../report/testdata/haproxy-sweep", "../fit/testdata/haproxy"} {
		if data, err := os.ReadFile(filepath.Join(dir, FileName)); err == nil {
			f.Add(data)
		}
	}
	for _, seed := range []string{
		`{"schema_version":1,"steps":[{"fortio_file":"../../../../etc/shadow"}]}`,
		`{"schema_version":1,"baseline":[{"fortio_file":"/etc/shadow"}]}`,
		`{"schema_version":1,"searches":[{"steps":[{"file":"steps/../.."}]}]}`,
		`{"schema_version":1,"steps":[{"requested_rps":1e308,"concurrency":9223372036854775807}]}`,
		`{"schema_version":1,"status":"running","owner":{"pid":-1}}`,
		`{"schema_version":99}`,
		`{"schema_version":1,"steps":[`,
		`[]`, `null`, `{"schema_version":1e400}`, ``,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Parse(data)
		if err != nil {
			return
		}
		for _, st := range s.Steps {
			for _, name := range []string{st.File, st.FortioFile} {
				if name != "" && !filepath.IsLocal(name) {
					t.Fatalf("accepted a file outside the directory: %q", name)
				}
			}
		}
		for _, r := range s.Baseline {
			if r.FortioFile != "" && !filepath.IsLocal(r.FortioFile) {
				t.Fatalf("accepted a baseline file outside the directory: %q", r.FortioFile)
			}
		}
		if _, err := json.Marshal(s); err != nil {
			t.Fatalf("an accepted record does not encode: %v", err)
		}
		s.Stale() // must not panic, whatever the owner
	})
}
