package results

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// recordedSweeps are the real sweeps committed as test data.
var recordedSweeps = []string{"../fit/testdata/haproxy", "../report/testdata/haproxy-sweep", "../fit/testdata/haproxy-curve"}

// TestRecordedSweepsRoundTrip holds sweep.json as a contract: decoding a
// committed recording and encoding it again as Save does gives the same bytes.
func TestRecordedSweepsRoundTrip(t *testing.T) {
	for _, dir := range recordedSweeps {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			want, err := os.ReadFile(filepath.Join(dir, FileName))
			if err != nil {
				t.Fatal(err)
			}
			s, err := Load(dir)
			if err != nil {
				t.Fatal(err)
			}
			got, err := json.MarshalIndent(s, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, '\n')
			if !bytes.Equal(got, want) {
				t.Errorf("re-encoded %s differs from the recording (%d vs %d bytes)", dir, len(got), len(want))
			}
		})
	}
}
