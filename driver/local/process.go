package local

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// cgroupShim makes a process join its cgroups before it runs the proxy, so
// that every process and thread the proxy forks is born inside them: nginx
// forks its workers at start-up, too early to be moved in afterwards.
const cgroupShim = `IFS=:; for f in $PROXYSIZER_CGROUP_PROCS; do echo $$ > "$f" || exit 97; done; unset IFS; exec "$@"`

// process is a started child in its own process group.
type process struct {
	cmd  *exec.Cmd
	done chan struct{}
	err  error
	log  string
}

// startProcess starts argv in a new process group, inside the cgroups whose
// cgroup.procs files are given, with output to logFile. The child gets
// SIGKILL if this process dies, so a killed sweep leaves no proxy running.
func startProcess(argv []string, procsFiles []string, logFile *os.File, dir string) (*process, error) {
	logPath := logFile.Name()
	name, args := argv[0], argv[1:]
	env := os.Environ()
	if len(procsFiles) > 0 {
		args = append([]string{"-c", cgroupShim, "proxysizer-shim"}, argv...)
		name = "/bin/sh"
		env = append(env, "PROXYSIZER_CGROUP_PROCS="+strings.Join(procsFiles, ":"))
	}
	cmd := exec.Command(name, args...)
	cmd.Dir, cmd.Env = dir, env
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", argv[0], err)
	}
	p := &process{cmd: cmd, done: make(chan struct{}), log: logPath}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

func (p *process) pid() int { return p.cmd.Process.Pid }

// exited reports whether the process has ended.
func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop sends SIGTERM to the process group, then SIGKILL after grace.
func (p *process) stop(grace time.Duration) {
	if p.exited() {
		return
	}
	_ = syscall.Kill(-p.pid(), syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(grace):
		_ = syscall.Kill(-p.pid(), syscall.SIGKILL)
		<-p.done
	}
	// Workers that outlived their master (nginx) share its process group.
	_ = syscall.Kill(-p.pid(), syscall.SIGKILL)
}

// logTail returns the last lines of the process's output, for errors.
func (p *process) logTail() string {
	data, _ := os.ReadFile(p.log)
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	if len(lines) > 5 {
		lines = lines[len(lines)-5:]
	}
	return strings.Join(lines, " | ")
}

// groupCPUSeconds sums user and system CPU of every process in a process
// group from /proc: the CPU source when no cgroup is available.
func groupCPUSeconds(pgid int) (float64, error) {
	var total float64
	found := false
	err := forEachProc(func(pid int, stat []string) {
		if g, _ := strconv.Atoi(stat[4]); g != pgid {
			return
		}
		utime, _ := strconv.ParseFloat(stat[13], 64)
		stime, _ := strconv.ParseFloat(stat[14], 64)
		total += (utime + stime) / clockTicks
		found = true
	})
	if err == nil && !found {
		err = fmt.Errorf("no process in group %d", pgid)
	}
	return total, err
}

// groupRSS sums the resident set of a process group, the memory source when
// no memory cgroup is available (it counts shared pages once per process).
func groupRSS(pgid int) (int64, error) {
	var total int64
	err := forEachProc(func(pid int, stat []string) {
		if g, _ := strconv.Atoi(stat[4]); g != pgid {
			return
		}
		pages, _ := strconv.ParseInt(stat[23], 10, 64)
		total += pages * int64(os.Getpagesize())
	})
	return total, err
}

// clockTicks is USER_HZ, 100 on every Linux architecture Go supports.
const clockTicks = 100

// forEachProc calls fn with the fields of /proc/PID/stat for each process;
// fields are indexed as in proc(5) minus one, with the command name (which
// may hold spaces) as one field.
func forEachProc(fn func(pid int, stat []string)) error {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return err
	}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		data, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		if fields := parseStat(data); len(fields) > 23 {
			fn(pid, fields)
		}
	}
	return nil
}

func parseStat(data []byte) []string {
	open, close := bytes.IndexByte(data, '('), bytes.LastIndexByte(data, ')')
	if open < 0 || close < open {
		return nil
	}
	fields := []string{string(bytes.TrimSpace(data[:open])), string(data[open+1 : close])}
	return append(fields, strings.Fields(string(data[close+1:]))...)
}

// processStartTime is the start time of pid in clock ticks since boot, to
// tell a live process from a later one that reused its PID.
func processStartTime(pid int) (int64, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	fields := parseStat(data)
	if len(fields) <= 21 {
		return 0, errors.New("short /proc stat")
	}
	return strconv.ParseInt(fields[21], 10, 64)
}

// scanJSONLine reads the first line a child prints, for its ready message.
func scanJSONLine(r *bufio.Reader, timeout time.Duration) ([]byte, error) {
	type result struct {
		line []byte
		err  error
	}
	ch := make(chan result, 1)
	go func() {
		line, err := r.ReadBytes('\n')
		ch <- result{line, err}
	}()
	select {
	case res := <-ch:
		return res.line, res.err
	case <-time.After(timeout):
		return nil, fmt.Errorf("no ready message within %v", timeout)
	}
}
