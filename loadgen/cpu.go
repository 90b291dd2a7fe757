package loadgen

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// userHZ is the unit of utime and stime in /proc/PID/stat. Linux fixes it at
// 100 for user space whatever the kernel's internal tick rate.
const userHZ = 100

// processCPUTime returns the CPU time (user + system) this process has used.
// It reads /proc/self/stat, which counts every thread of the process; where
// /proc is missing it falls back to getrusage, which counts the same.
func processCPUTime() (time.Duration, error) {
	data, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		return rusageCPUTime()
	}
	return parseProcStatCPU(string(data))
}

// parseProcStatCPU extracts utime+stime (fields 14 and 15) from a
// /proc/PID/stat line. The command name (field 2) is in parentheses and may
// hold spaces, so fields are counted from the last ')'.
func parseProcStatCPU(stat string) (time.Duration, error) {
	end := strings.LastIndexByte(stat, ')')
	if end < 0 {
		return 0, fmt.Errorf("unexpected /proc stat format")
	}
	fields := strings.Fields(stat[end+1:])
	// fields[0] is field 3 (state); utime is field 14, stime field 15.
	const utimeIdx, stimeIdx = 14 - 3, 15 - 3
	if len(fields) <= stimeIdx {
		return 0, fmt.Errorf("unexpected /proc stat format: %d fields", len(fields)+2)
	}
	var ticks int64
	for _, idx := range []int{utimeIdx, stimeIdx} {
		v, err := strconv.ParseInt(fields[idx], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("unexpected /proc stat field %d: %w", idx+3, err)
		}
		ticks += v
	}
	return time.Duration(ticks) * time.Second / userHZ, nil
}

func rusageCPUTime() (time.Duration, error) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, err
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), nil
}

// runQueueWait is how long this process's threads have been ready to run
// but waiting for a CPU (field 2 of /proc/self/task/*/schedstat, summed;
// threads that ended meanwhile are not counted). It is the time other
// processes held the CPUs the generator needed: on the shared 2-vCPU
// machine of issue 16 a 1.2 s run at 200 qps showed 150-950 ms of it, and
// that, not the engine, was when its calls went out late.
func runQueueWait() (time.Duration, bool) {
	tasks, err := filepath.Glob("/proc/self/task/*/schedstat")
	if err != nil || len(tasks) == 0 {
		return 0, false
	}
	var total int64
	for _, path := range tasks {
		data, err := os.ReadFile(path)
		if err != nil {
			continue // the thread ended
		}
		fields := strings.Fields(string(data))
		if len(fields) < 2 {
			return 0, false
		}
		waited, err := strconv.ParseInt(fields[1], 10, 64)
		if err != nil {
			return 0, false
		}
		total += waited
	}
	return time.Duration(total), true
}

// cpuMeter measures the cores a process used between start and stop, and
// how long its threads waited for a CPU meanwhile.
type cpuMeter struct {
	wallStart time.Time
	cpuStart  time.Duration
	err       error
	waitStart time.Duration
	waitOK    bool
}

func startCPUMeter() cpuMeter {
	cpu, err := processCPUTime()
	wait, ok := runQueueWait()
	return cpuMeter{wallStart: time.Now(), cpuStart: cpu, err: err, waitStart: wait, waitOK: ok}
}

// cpuWait returns the time the threads waited for a CPU since start, and
// false where Linux's schedstat is not available.
func (m cpuMeter) cpuWait() (time.Duration, bool) {
	wait, ok := runQueueWait()
	if !ok || !m.waitOK {
		return 0, false
	}
	return max(wait-m.waitStart, 0), true
}

// cores returns CPU seconds per wall second since start; 0 if unreadable.
func (m cpuMeter) cores() float64 {
	if m.err != nil {
		return 0
	}
	cpu, err := processCPUTime()
	wall := time.Since(m.wallStart).Seconds()
	if err != nil || wall <= 0 {
		return 0
	}
	return (cpu - m.cpuStart).Seconds() / wall
}
