package local

import (
	"errors"
	"path/filepath"
	"testing"

	"github.com/proxysizer/proxysizer/internal/input"
	"github.com/proxysizer/proxysizer/results"
	"github.com/proxysizer/proxysizer/sweep"
)

func TestRequestConfigKeepsWhatTheResumedSweepMeasured(t *testing.T) {
	rec := &results.Sweep{Proxy: results.Proxy{Name: "nginx"}}
	o := sweep.Options{OutDir: "out/x", OutboundPerRequest: 2, Settings: []results.Setting{{Concurrency: 1}}, Resumed: rec}
	cfg, err := DefaultRequest().Config(o)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Proxy.Name() != "nginx" || !cfg.NoCgroups || !cfg.Pin || cfg.OutboundPerRequest != 2 || cfg.WorkDir != filepath.Join("out/x", "lab") {
		t.Errorf("config %+v: want the recorded nginx, no cgroups (the sweep ran without), pinned, k=2, the lab in out/x", cfg)
	}
	r := Request{Proxy: "haproxy", Given: map[input.Field]bool{FieldProxy: true}, Names: input.Names{FieldProxy: "--proxy", sweep.FieldOutDir: "--out"}}
	_, err = r.Config(o)
	var bad *input.Error
	want := "--proxy: the sweep being resumed measured nginx: leave --proxy out, or choose another --out"
	if !errors.As(err, &bad) || bad.Field != FieldProxy || err.Error() != want {
		t.Errorf("another proxy on resume: got %v, want %q", err, want)
	}
}
