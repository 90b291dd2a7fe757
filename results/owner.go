package results

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/proxysizer/proxysizer/internal/safefile"
)

// Owner is the process running a sweep, recorded in its sweep.json, so
// that a record left "running" by a process that died (SIGKILL, a panic
// in a goroutine, a lost machine) is told from one still running.
type Owner struct {
	PID int `json:"pid"`
	// StartTicks is the process's start time since boot (/proc/PID/stat),
	// BootID the boot it ran in: a PID reused later, or after a reboot, is
	// another process.
	StartTicks int64  `json:"start_ticks"`
	BootID     string `json:"boot_id,omitempty"`
	Host       string `json:"host,omitempty"`
}

// CurrentOwner is this process.
func CurrentOwner() *Owner {
	host, _ := os.Hostname()
	ticks, _ := startTicks(os.Getpid())
	return &Owner{PID: os.Getpid(), StartTicks: ticks, BootID: bootID(), Host: host}
}

// Alive reports whether the owner is still running: the same process on
// this machine in this boot. An owner on another host counts as alive:
// this machine cannot tell.
func (o *Owner) Alive() bool {
	if o == nil || o.PID <= 0 {
		return false
	}
	if host, _ := os.Hostname(); o.Host != "" && o.Host != host {
		return true
	}
	if o.BootID != "" && o.BootID != bootID() {
		return false
	}
	ticks, err := startTicks(o.PID)
	return err == nil && ticks == o.StartTicks
}

// Self reports whether the owner is this process.
func (o *Owner) Self() bool {
	self := CurrentOwner()
	return o != nil && o.PID == self.PID && o.StartTicks == self.StartTicks && o.BootID == self.BootID
}

// Stale reports a sweep recorded as running whose process is gone: it
// crashed or was killed, and is interrupted.
func (s *Sweep) Stale() bool { return s.Status == SweepRunning && !s.Owner.Alive() }

func startTicks(pid int) (int64, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name (field 2) is in parentheses and may hold spaces.
	i := bytes.LastIndexByte(data, ')')
	if i < 0 {
		return 0, errors.New("malformed /proc stat")
	}
	fields := strings.Fields(string(data[i+1:]))
	if len(fields) < 20 {
		return 0, errors.New("short /proc stat")
	}
	return strconv.ParseInt(fields[19], 10, 64) // field 22: starttime
}

func bootID() string {
	data, _ := os.ReadFile("/proc/sys/kernel/random/boot_id")
	return strings.TrimSpace(string(data))
}

// Running sweeps register their results directory in RegistryDir, so that
// `proxysizer cleanup` finds the sweep.json a killed sweep left "running"
// without being told where it is.
func RegistryDir() string {
	return filepath.Join(os.TempDir(), fmt.Sprintf("proxysizer-sweeps-%d", os.Getuid()))
}

type registration struct {
	Owner *Owner `json:"owner"`
	Dir   string `json:"dir"`
}

// Register records that this process sweeps into dir; the returned
// function removes the record when the sweep ends.
func Register(dir string) (func(), error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	o := CurrentOwner()
	path := filepath.Join(RegistryDir(), fmt.Sprintf("%d-%d.json", o.PID, o.StartTicks))
	if err := safefile.PrivateDir(RegistryDir()); err != nil {
		return nil, err
	}
	if err := WriteJSON(path, registration{Owner: o, Dir: abs}); err != nil {
		return nil, err
	}
	return func() { os.Remove(path) }, nil
}

// RepairCrashed marks interrupted every registered sweep whose process is
// gone and whose sweep.json still says running, and forgets its
// registration. It returns one line per repaired sweep.
func RepairCrashed() ([]string, error) {
	if _, err := os.Stat(RegistryDir()); errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err := safefile.PrivateDir(RegistryDir()); err != nil {
		return nil, err
	}
	files, _ := filepath.Glob(filepath.Join(RegistryDir(), "*.json"))
	var done []string
	var errs []error
	for _, f := range files {
		data, err := safefile.ReadFile(f, safefile.MaxState)
		var reg registration
		if err == nil {
			err = json.Unmarshal(data, &reg)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("sweep registration %s: %v", f, err))
			continue
		}
		if reg.Owner.Alive() {
			continue
		}
		line, err := Repair(reg.Dir)
		if err != nil && !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, ErrNoResults) {
			errs = append(errs, err)
			continue
		}
		if line != "" {
			done = append(done, line)
		}
		os.Remove(f)
	}
	return done, errors.Join(errs...)
}

// Repair marks the sweep in dir interrupted if it is stale; it says what
// it did ("" for nothing).
func Repair(dir string) (string, error) {
	rec, err := Load(dir)
	if err != nil || !rec.Stale() {
		return "", err
	}
	pid := 0
	if rec.Owner != nil {
		pid = rec.Owner.PID
	}
	rec.Status, rec.UpdatedAt = SweepInterrupted, time.Now()
	if err := Save(dir, rec); err != nil {
		return "", err
	}
	return fmt.Sprintf("marked the sweep in %s interrupted: its process %d is gone (continue it with proxysizer sweep --resume --out %s)", dir, pid, dir), nil
}
