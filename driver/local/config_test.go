package local

import (
	"errors"
	"testing"

	"github.com/proxysizer/proxysizer/driver"
	"github.com/proxysizer/proxysizer/internal/input"
	"github.com/proxysizer/proxysizer/results"
)

func TestChooseProxyByNameFromTheRegistry(t *testing.T) {
	for _, name := range ProxyNames() {
		p, err := ChooseProxy(name, nil)
		if err != nil || p.Name() != name {
			t.Errorf("ChooseProxy(%q) = %v, %v", name, p, err)
		}
	}
	_, err := ChooseProxy("traefik", input.Names{FieldProxy: "--proxy"})
	var bad *input.Error
	if !errors.As(err, &bad) || bad.Field != FieldProxy || err.Error() != `--proxy: unknown proxy "traefik": expected envoy, haproxy, nginx or auto` {
		t.Errorf("unknown proxy: %v", err)
	}
}

func TestCheckRefusesLimitsWithoutCgroups(t *testing.T) {
	unlimited := []results.Setting{{Concurrency: 1}, {Concurrency: 2}}
	if err := (Config{NoCgroups: true}).Check(unlimited); err != nil {
		t.Errorf("settings without limits need no cgroups: %v", err)
	}
	limited := append(unlimited, results.Setting{Concurrency: 2, CPULimitMillicores: 1500})
	if err := (Config{}).Check(limited); err != nil {
		t.Errorf("with cgroups any limit runs: %v", err)
	}
	err := Config{NoCgroups: true}.Check(limited)
	var bad *input.Error
	if !errors.As(err, &bad) || bad.Field != driver.FieldCPULimits || err.Error() != "CPU limits: 1500m cannot be enforced with no cgroups: use CPU limits none" {
		t.Errorf("limit without cgroups: %v", err)
	}
}
