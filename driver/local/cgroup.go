package local

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// cfsPeriodMicros is the CFS period Kubernetes uses: a limit of L millicores
// becomes a quota of L*100 microseconds per 100 ms period.
const cfsPeriodMicros = 100000

// CgroupPrefix starts the name of every cgroup a sweep creates; the owner's
// PID follows, so cleanup can tell a live sweep's groups from a dead one's.
const CgroupPrefix = "proxysizer-"

// Usage is a cgroup's cumulative counters at one instant.
type Usage struct {
	CPUNanos         int64
	Periods          int64
	ThrottledPeriods int64
	ThrottledNanos   int64
	// WorkingSet is usage minus inactive file pages, as the kubelet and
	// cAdvisor compute container_memory_working_set_bytes.
	WorkingSet int64
	HasMemory  bool
}

// Cgroup is one proxy's group: CPU quota, CPU placement, accounting.
type Cgroup interface {
	// Paths lists the directories that make up the group.
	Paths() []string
	// ProcsFiles are the cgroup.procs files a process must be written to.
	ProcsFiles() []string
	SetCPULimit(millicores int64) error
	SetCPUs(cpus string) error
	Usage() (Usage, error)
	// Remove kills any process left in the group and removes it.
	Remove() error
}

// Hierarchy creates cgroups on one of the machine's cgroup layouts.
type Hierarchy interface {
	Version() string // v1 or v2
	Create(name string) (Cgroup, error)
	// List returns the names of existing groups starting with prefix.
	List(prefix string) ([]string, error)
	Open(name string) Cgroup
}

// ErrNoCgroups means no writable cgroup hierarchy with a CPU controller.
var ErrNoCgroups = errors.New("no writable cgroup CPU controller")

// DetectHierarchy finds the machine's cgroup layout and checks that this
// process may create groups in it.
func DetectHierarchy(root string) (Hierarchy, error) {
	self, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNoCgroups, err)
	}
	var h Hierarchy
	if _, err := os.Stat(filepath.Join(root, "cgroup.controllers")); err == nil {
		h = newV2(root, string(self))
	} else if _, err := os.Stat(filepath.Join(root, "cpu", "cpu.cfs_quota_us")); err == nil {
		h = newV1(root, string(self))
	} else {
		return nil, fmt.Errorf("%w under %s", ErrNoCgroups, root)
	}
	if err := probeWritable(h); err != nil {
		return nil, err
	}
	return h, nil
}

func probeWritable(h Hierarchy) error {
	name := cgroupName("probe")
	cg, err := h.Create(name)
	if err != nil {
		return fmt.Errorf("%w: cannot create a cgroup (%v)", ErrNoCgroups, err)
	}
	return cg.Remove()
}

// ownPath returns this process's cgroup path for a v1 controller (or the
// unified "" key for v2) from /proc/self/cgroup, so groups nest under it.
func ownPath(selfCgroup, controller string) string {
	for _, line := range strings.Split(strings.TrimSpace(selfCgroup), "\n") {
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 {
			continue
		}
		for _, c := range strings.Split(parts[1], ",") {
			if c == controller {
				return parts[2]
			}
		}
	}
	return "/"
}

func writeValue(path, value string) error {
	if err := os.WriteFile(path, []byte(value), 0o644); err != nil {
		return fmt.Errorf("write %q to %s: %w", value, path, err)
	}
	return nil
}

func readInt(path string) (int64, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	return strconv.ParseInt(strings.TrimSpace(string(data)), 10, 64)
}

// readKeyed parses "key value" lines (cpu.stat, memory.stat).
func readKeyed(path string) (map[string]int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	out := map[string]int64{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) != 2 {
			continue
		}
		if v, err := strconv.ParseInt(fields[1], 10, 64); err == nil {
			out[fields[0]] = v
		}
	}
	return out, sc.Err()
}

// killAndRemove kills the processes listed in procsFile, waits for the group
// to empty, then removes dir. Bounded: gives up after 5 seconds.
func killAndRemove(dir, procsFile string) error {
	if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		pids, _ := readPids(procsFile)
		for _, pid := range pids {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
		err := os.Remove(dir)
		if err == nil || errors.Is(err, os.ErrNotExist) {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("remove cgroup %s: %w (processes %v still in it)", dir, err, pids)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func readPids(procsFile string) ([]int, error) {
	data, err := os.ReadFile(procsFile)
	if err != nil {
		return nil, err
	}
	var pids []int
	for _, f := range strings.Fields(string(data)) {
		if pid, err := strconv.Atoi(f); err == nil {
			pids = append(pids, pid)
		}
	}
	return pids, nil
}
