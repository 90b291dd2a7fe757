package results

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSaveLoadRoundTrip(t *testing.T) {
	dir := t.TempDir()
	in := &Sweep{SchemaVersion: SchemaVersion, Backend: "local", Proxy: Proxy{Name: "haproxy", Version: "2.6.12"},
		Steps: []Step{{Index: 0, Setting: Setting{Concurrency: 2, CPULimitMillicores: 500}, RequestedRPS: 400, Status: StatusOK, ProxyCPUCores: 0.12}}}
	if err := Save(dir, in); err != nil {
		t.Fatal(err)
	}
	out, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if out.Proxy != in.Proxy || len(out.Steps) != 1 || out.Steps[0].ProxyCPUCores != 0.12 || out.Steps[0].CPULimitMillicores != 500 {
		t.Errorf("round trip: %+v", out)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("temporary files left behind: %v", entries)
	}
}

func TestLoadRejects(t *testing.T) {
	empty := t.TempDir()
	newer := t.TempDir()
	os.WriteFile(filepath.Join(newer, FileName), []byte(`{"schema_version": 9}`), 0o644)
	garbage := t.TempDir()
	os.WriteFile(filepath.Join(garbage, FileName), []byte(`{"schema_`), 0o644)
	file := filepath.Join(t.TempDir(), "f")
	os.WriteFile(file, nil, 0o644)
	tests := []struct{ dir, want string }{
		{filepath.Join(empty, "missing"), "no such file or directory"},
		{empty, "no sweep.json"},
		{newer, "schema_version 9 is newer than this build reads (2)"},
		{garbage, "not valid JSON"},
		{file, "not a directory"},
	}
	for _, tt := range tests {
		if _, err := Load(tt.dir); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Load(%s) = %v, want %q", tt.dir, err, tt.want)
		}
	}
}
