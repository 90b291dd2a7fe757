package local

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// v1 controllers proxysizer uses; on v1 each is its own hierarchy (cpu and
// cpuacct are mounted separately on some machines, together on others).
var v1Controllers = []string{"cpu", "cpuacct", "cpuset", "memory"}

type v1Hierarchy struct {
	// bases maps a controller to the directory new groups go under: its
	// mount point joined with this process's own path in it.
	bases map[string]string
}

func newV1(root, self string) *v1Hierarchy {
	h := &v1Hierarchy{bases: map[string]string{}}
	for _, c := range v1Controllers {
		mount := filepath.Join(root, c)
		if _, err := os.Stat(mount); err != nil {
			continue
		}
		base := filepath.Join(mount, ownPath(self, c))
		if _, err := os.Stat(base); err != nil {
			base = mount // our own group is not visible here (a container)
		}
		h.bases[c] = base
	}
	return h
}

func (h *v1Hierarchy) Version() string { return "v1" }

func (h *v1Hierarchy) Open(name string) Cgroup {
	g := &v1Group{dirs: map[string]string{}}
	for c, base := range h.bases {
		g.dirs[c] = filepath.Join(base, name)
	}
	return g
}

func (h *v1Hierarchy) Create(name string) (Cgroup, error) {
	if _, ok := h.bases["cpu"]; !ok {
		return nil, ErrNoCgroups
	}
	g := h.Open(name).(*v1Group)
	for _, c := range v1Controllers {
		dir, ok := g.dirs[c]
		if !ok {
			continue
		}
		if err := os.Mkdir(dir, 0o755); err != nil && !errors.Is(err, os.ErrExist) {
			if c == "cpu" {
				g.Remove()
				return nil, err
			}
			delete(g.dirs, c) // optional controller: measure without it
			continue
		}
		if c == "cpuset" {
			// A v1 cpuset group takes no tasks until cpus and mems are set:
			// start from the parent's.
			if err := inheritCpuset(h.bases[c], dir); err != nil {
				os.Remove(dir)
				delete(g.dirs, c)
			}
		}
	}
	return g, nil
}

func inheritCpuset(parent, dir string) error {
	for _, f := range []string{"cpuset.cpus", "cpuset.mems"} {
		data, err := os.ReadFile(filepath.Join(parent, f))
		if err != nil {
			return err
		}
		if err := writeValue(filepath.Join(dir, f), strings.TrimSpace(string(data))); err != nil {
			return err
		}
	}
	return nil
}

func (h *v1Hierarchy) List(prefix string) ([]string, error) {
	seen := map[string]bool{}
	var names []string
	for _, base := range h.bases {
		entries, err := os.ReadDir(base)
		if err != nil {
			continue
		}
		for _, e := range entries {
			if e.IsDir() && strings.HasPrefix(e.Name(), prefix) && !seen[e.Name()] {
				seen[e.Name()] = true
				names = append(names, e.Name())
			}
		}
	}
	return names, nil
}

type v1Group struct{ dirs map[string]string }

func (g *v1Group) Paths() []string {
	var out []string
	for _, c := range v1Controllers {
		if d, ok := g.dirs[c]; ok {
			out = append(out, d)
		}
	}
	return out
}

func (g *v1Group) ProcsFiles() []string {
	var out []string
	for _, d := range g.Paths() {
		out = append(out, filepath.Join(d, "cgroup.procs"))
	}
	return out
}

func (g *v1Group) SetCPULimit(millicores int64) error {
	quota := "-1"
	if millicores > 0 {
		quota = fmt.Sprint(millicores * cfsPeriodMicros / 1000)
	}
	if err := writeValue(filepath.Join(g.dirs["cpu"], "cpu.cfs_period_us"), fmt.Sprint(cfsPeriodMicros)); err != nil {
		return err
	}
	return writeValue(filepath.Join(g.dirs["cpu"], "cpu.cfs_quota_us"), quota)
}

func (g *v1Group) SetCPUs(cpus string) error {
	dir, ok := g.dirs["cpuset"]
	if !ok {
		return fmt.Errorf("no cpuset controller")
	}
	return writeValue(filepath.Join(dir, "cpuset.cpus"), cpus)
}

func (g *v1Group) Usage() (Usage, error) {
	var u Usage
	acct := g.dirs["cpuacct"]
	if acct == "" {
		acct = g.dirs["cpu"] // cpu,cpuacct mounted together
	}
	var err error
	if u.CPUNanos, err = readInt(filepath.Join(acct, "cpuacct.usage")); err != nil {
		return u, fmt.Errorf("read cpuacct.usage: %w", err)
	}
	stat, err := readKeyed(filepath.Join(g.dirs["cpu"], "cpu.stat"))
	if err != nil {
		return u, fmt.Errorf("read cpu.stat: %w", err)
	}
	u.Periods, u.ThrottledPeriods, u.ThrottledNanos = stat["nr_periods"], stat["nr_throttled"], stat["throttled_time"]
	if mem, ok := g.dirs["memory"]; ok {
		usage, err1 := readInt(filepath.Join(mem, "memory.usage_in_bytes"))
		mstat, err2 := readKeyed(filepath.Join(mem, "memory.stat"))
		if err1 == nil && err2 == nil {
			u.WorkingSet, u.HasMemory = workingSet(usage, mstat["total_inactive_file"]), true
		}
	}
	return u, nil
}

func (g *v1Group) Remove() error {
	var errs []error
	// Kill through one hierarchy, then remove every directory.
	for _, d := range g.Paths() {
		errs = append(errs, killAndRemove(d, filepath.Join(d, "cgroup.procs")))
	}
	return errors.Join(errs...)
}

func workingSet(usage, inactiveFile int64) int64 {
	if inactiveFile > usage {
		return 0
	}
	return usage - inactiveFile
}
