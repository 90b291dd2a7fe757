package charts

import (
	"bytes"
	"testing"
)

// TestEmbeddedScriptIsECharts fails the unit tier when the build was made
// without `make echarts`: the report would otherwise ship without charts.
func TestEmbeddedScriptIsECharts(t *testing.T) {
	data, err := Script()
	if err != nil {
		t.Fatal(err)
	}
	if len(data) < 500_000 {
		t.Fatalf("embedded script is %d bytes: not the ECharts build", len(data))
	}
	for _, want := range []string{"echarts", `.version="5.6.0"`} {
		if !bytes.Contains(data, []byte(want)) {
			t.Fatalf("embedded script lacks %q: not ECharts 5.6.0 (see scripts/fetch-echarts.sh)", want)
		}
	}
}
