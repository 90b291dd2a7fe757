package local

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// Placement is which CPUs the proxy and the load generator (this process
// and the lab app) run on.
type Placement struct {
	ProxyCPUs     []int
	GeneratorCPUs []int
	Note          string
}

// Separate reports whether the two sides have CPUs of their own.
func (p Placement) Separate() bool { return len(p.ProxyCPUs) > 0 && len(p.GeneratorCPUs) > 0 }

// PlanPlacement splits the CPUs this process may use: the upper half to the
// proxy, the lower half to the generator. With one CPU there is nothing to
// split and both share it.
func PlanPlacement(available []int) Placement {
	if len(available) < 2 {
		return Placement{Note: fmt.Sprintf("%d CPU: proxy and load generator share it", len(available))}
	}
	half := len(available) / 2
	return Placement{
		GeneratorCPUs: append([]int(nil), available[:half]...),
		ProxyCPUs:     append([]int(nil), available[half:]...),
		Note: fmt.Sprintf("proxy on CPUs %s (a cpuset), load generator and app on %s (affinity): a CPU limit above %d cores acts as %d",
			CPUList(available[half:]), CPUList(available[:half]), len(available)-half, len(available)-half),
	}
}

// AvailableCPUs lists the CPUs this process may run on.
func AvailableCPUs() ([]int, error) {
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &set); err != nil {
		return nil, err
	}
	var cpus []int
	for i := 0; i < 1024; i++ {
		if set.IsSet(i) {
			cpus = append(cpus, i)
		}
	}
	return cpus, nil
}

// CPUList writes CPUs as a cpuset list: 0,1,2,5 -> "0-2,5".
func CPUList(cpus []int) string {
	var parts []string
	for i := 0; i < len(cpus); {
		j := i
		for j+1 < len(cpus) && cpus[j+1] == cpus[j]+1 {
			j++
		}
		if j == i {
			parts = append(parts, strconv.Itoa(cpus[i]))
		} else {
			parts = append(parts, fmt.Sprintf("%d-%d", cpus[i], cpus[j]))
		}
		i = j + 1
	}
	return strings.Join(parts, ",")
}

// pinThisProcess sets the affinity of every thread of this process (threads
// started later inherit it from their creator) and returns a function that
// puts the previous affinity back.
func pinThisProcess(cpus []int) (restore func(), err error) {
	var old, set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &old); err != nil {
		return nil, err
	}
	for _, c := range cpus {
		set.Set(c)
	}
	if err := setAllThreads(&set); err != nil {
		return nil, err
	}
	return func() { _ = setAllThreads(&old) }, nil
}

func setAllThreads(set *unix.CPUSet) error {
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		return err
	}
	for _, t := range tasks {
		tid, err := strconv.Atoi(t.Name())
		if err != nil {
			continue
		}
		// A thread may exit between listing and setting: not an error.
		if err := unix.SchedSetaffinity(tid, set); err != nil && err != unix.ESRCH {
			return fmt.Errorf("set affinity of thread %d: %w", tid, err)
		}
	}
	return nil
}
