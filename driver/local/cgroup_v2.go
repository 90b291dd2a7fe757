package local

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// v2Hierarchy is the unified hierarchy: one directory per group, controllers
// enabled through the parent's cgroup.subtree_control.
type v2Hierarchy struct{ base string }

func newV2(root, self string) *v2Hierarchy {
	base := filepath.Join(root, ownPath(self, ""))
	if _, err := os.Stat(base); err != nil {
		base = root
	}
	return &v2Hierarchy{base: base}
}

func (h *v2Hierarchy) Version() string { return "v2" }

func (h *v2Hierarchy) Open(name string) Cgroup { return &v2Group{dir: filepath.Join(h.base, name)} }

func (h *v2Hierarchy) Create(name string) (Cgroup, error) {
	// Enable the controllers for children; a group with processes cannot
	// delegate ("no internal processes"), in which case the caller sees the
	// error from writing cpu.max below.
	_ = writeValue(filepath.Join(h.base, "cgroup.subtree_control"), "+cpu +cpuset +memory")
	g := &v2Group{dir: filepath.Join(h.base, name)}
	if err := os.Mkdir(g.dir, 0o755); err != nil && !os.IsExist(err) {
		return nil, err
	}
	return g, nil
}

func (h *v2Hierarchy) List(prefix string) ([]string, error) {
	entries, err := os.ReadDir(h.base)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range entries {
		if e.IsDir() && strings.HasPrefix(e.Name(), prefix) {
			names = append(names, e.Name())
		}
	}
	return names, nil
}

type v2Group struct{ dir string }

func (g *v2Group) Paths() []string      { return []string{g.dir} }
func (g *v2Group) ProcsFiles() []string { return []string{filepath.Join(g.dir, "cgroup.procs")} }

func (g *v2Group) SetCPULimit(millicores int64) error {
	quota := "max"
	if millicores > 0 {
		quota = fmt.Sprint(millicores * cfsPeriodMicros / 1000)
	}
	return writeValue(filepath.Join(g.dir, "cpu.max"), fmt.Sprintf("%s %d", quota, cfsPeriodMicros))
}

func (g *v2Group) SetCPUs(cpus string) error {
	return writeValue(filepath.Join(g.dir, "cpuset.cpus"), cpus)
}

func (g *v2Group) Usage() (Usage, error) {
	var u Usage
	stat, err := readKeyed(filepath.Join(g.dir, "cpu.stat"))
	if err != nil {
		return u, fmt.Errorf("read cpu.stat: %w", err)
	}
	u.CPUNanos = stat["usage_usec"] * 1000
	u.Periods, u.ThrottledPeriods, u.ThrottledNanos = stat["nr_periods"], stat["nr_throttled"], stat["throttled_usec"]*1000
	current, err1 := readInt(filepath.Join(g.dir, "memory.current"))
	mstat, err2 := readKeyed(filepath.Join(g.dir, "memory.stat"))
	if err1 == nil && err2 == nil {
		u.WorkingSet, u.HasMemory = workingSet(current, mstat["inactive_file"]), true
	}
	return u, nil
}

func (g *v2Group) Remove() error {
	// cgroup.kill (Linux 5.14+) kills every process at once; older kernels
	// fall back to killing the listed PIDs.
	_ = writeValue(filepath.Join(g.dir, "cgroup.kill"), "1")
	return killAndRemove(g.dir, filepath.Join(g.dir, "cgroup.procs"))
}
