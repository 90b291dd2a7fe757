package local

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/proxysizer/proxysizer/internal/safefile"
	"github.com/proxysizer/proxysizer/results"
)

// state records what a running sweep created, so that cleanup can remove
// what a killed sweep left behind: its cgroups and process groups.
type state struct {
	OwnerPID   int      `json:"owner_pid"`
	OwnerStart int64    `json:"owner_start"`
	Cgroups    []string `json:"cgroups"`
	ProcGroups []int    `json:"process_groups"`
	path       string
}

// StateDir is where sweeps keep their state files.
func StateDir() string {
	return filepath.Join(os.TempDir(), fmt.Sprintf("proxysizer-state-%d", os.Getuid()))
}

func newState() (*state, error) {
	start, err := processStartTime(os.Getpid())
	if err != nil {
		return nil, err
	}
	s := &state{OwnerPID: os.Getpid(), OwnerStart: start,
		path: filepath.Join(StateDir(), fmt.Sprintf("%d.json", os.Getpid()))}
	return s, s.save()
}

func (s *state) save() error {
	if err := safefile.PrivateDir(filepath.Dir(s.path)); err != nil {
		return err
	}
	return results.WriteJSON(s.path, s)
}

func (s *state) addCgroup(name string) error { s.Cgroups = append(s.Cgroups, name); return s.save() }
func (s *state) addProcGroup(pgid int) error {
	s.ProcGroups = append(s.ProcGroups, pgid)
	return s.save()
}

func (s *state) removeCgroup(name string) error {
	s.Cgroups = remove(s.Cgroups, name)
	return s.save()
}

func (s *state) removeProcGroup(pgid int) error {
	s.ProcGroups = remove(s.ProcGroups, pgid)
	return s.save()
}

func (s *state) delete() error { return os.Remove(s.path) }

func remove[T comparable](list []T, v T) []T {
	out := list[:0]
	for _, x := range list {
		if x != v {
			out = append(out, x)
		}
	}
	return out
}

// alive reports whether the sweep that wrote a state is still running.
func (s *state) alive() bool {
	start, err := processStartTime(s.OwnerPID)
	return err == nil && start == s.OwnerStart
}

// Cleanup removes what dead sweeps left behind: it kills their proxies'
// process groups and removes their cgroups (found from state files, and by
// name for groups whose state file is gone). h may be nil when cgroups are
// not usable. It returns one line per thing removed.
func Cleanup(h Hierarchy) ([]string, error) {
	var done []string
	var errs []error
	files, _ := filepath.Glob(filepath.Join(StateDir(), "*.json"))
	for _, f := range files {
		var s state
		data, err := safefile.ReadFile(f, safefile.MaxState)
		if err == nil {
			err = json.Unmarshal(data, &s)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("state file %s: %v", f, err))
			continue
		}
		if s.alive() {
			continue
		}
		for _, pgid := range s.ProcGroups {
			if syscall.Kill(-pgid, syscall.SIGKILL) == nil {
				done = append(done, fmt.Sprintf("killed process group %d of dead sweep %d", pgid, s.OwnerPID))
			}
		}
		for _, name := range s.Cgroups {
			if h == nil {
				continue
			}
			if err := h.Open(name).Remove(); err != nil {
				errs = append(errs, err)
				continue
			}
			done = append(done, "removed cgroup "+name)
		}
		if err := os.Remove(f); err == nil {
			done = append(done, "removed state file "+f)
		}
	}
	if h != nil {
		orphans, err := orphanCgroups(h)
		errs = append(errs, err)
		for _, name := range orphans {
			if err := h.Open(name).Remove(); err != nil {
				errs = append(errs, err)
				continue
			}
			done = append(done, "removed cgroup "+name)
		}
	}
	return done, errors.Join(errs...)
}

// orphanCgroups lists proxysizer cgroups whose owner (the PID in the name)
// is no longer running.
func orphanCgroups(h Hierarchy) ([]string, error) {
	names, err := h.List(CgroupPrefix)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, name := range names {
		if pid, ok := cgroupOwner(name); ok && syscall.Kill(pid, 0) != nil {
			out = append(out, name)
		}
	}
	return out, nil
}

// cgroupName is proxysizer-<owner pid>-<what>.
func cgroupName(what string) string { return fmt.Sprintf("%s%d-%s", CgroupPrefix, os.Getpid(), what) }

func cgroupOwner(name string) (int, bool) {
	rest := strings.TrimPrefix(name, CgroupPrefix)
	pidStr, _, _ := strings.Cut(rest, "-")
	pid, err := strconv.Atoi(pidStr)
	return pid, err == nil
}
