package results

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// A record naming a file outside its directory is refused when read, for
// every list that names files.
func TestParseRefusesFilesOutsideTheDirectory(t *testing.T) {
	for _, tt := range []struct{ name, record, want string }{
		{"step fortio_file climbing out", `{"schema_version":1,"steps":[{"fortio_file":"../../../../etc/shadow"}]}`, `steps[0].fortio_file "../../../../etc/shadow"`},
		{"step file absolute", `{"schema_version":1,"steps":[{},{"file":"/etc/passwd"}]}`, `steps[1].file "/etc/passwd"`},
		{"baseline", `{"schema_version":1,"baseline":[{"fortio_file":"baseline/../../x"}]}`, `baseline[0].fortio_file`},
		{"search step", `{"schema_version":1,"searches":[{"steps":[{"fortio_file":".."}]}]}`, `searches[0].steps[0].fortio_file ".."`},
	} {
		_, err := Parse([]byte(tt.record))
		if !errors.Is(err, ErrOutside) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want %q", tt.name, err, tt.want)
		}
	}
	if _, err := Parse([]byte(`{"schema_version":1,"steps":[{"file":"steps/000.json","fortio_file":"steps/000.fortio.json"}],"baseline":[{"fortio_file":"baseline/200rps.fortio.json"}]}`)); err != nil {
		t.Errorf("a record of local names: %v", err)
	}
}

// A record is stale when it says running and its owner is gone: exited,
// recorded before owners were, or in another boot.
func TestStaleAndRepair(t *testing.T) {
	exited := exec.Command("true")
	if err := exited.Run(); err != nil {
		t.Fatal(err)
	}
	self := CurrentOwner()
	otherBoot := *self
	otherBoot.BootID = "another-boot"
	for _, tt := range []struct {
		name  string
		owner *Owner
		stale bool
	}{
		{"this process", self, false},
		{"an exited process", &Owner{PID: exited.Process.Pid, StartTicks: self.StartTicks, BootID: self.BootID, Host: self.Host}, true},
		{"this PID, started at another time", &Owner{PID: self.PID, StartTicks: self.StartTicks + 1, BootID: self.BootID, Host: self.Host}, true},
		{"another boot", &otherBoot, true},
		{"no owner recorded", nil, true},
		{"another host: cannot tell", &Owner{PID: 1, Host: "elsewhere"}, false},
	} {
		dir := t.TempDir()
		if err := Save(dir, &Sweep{SchemaVersion: SchemaVersion, Status: SweepRunning, Owner: tt.owner}); err != nil {
			t.Fatal(err)
		}
		rec, _ := Load(dir)
		if rec.Stale() != tt.stale {
			t.Errorf("%s: stale %v, want %v", tt.name, rec.Stale(), tt.stale)
		}
		line, err := Repair(dir)
		rec, _ = Load(dir)
		switch {
		case err != nil:
			t.Errorf("%s: repair: %v", tt.name, err)
		case tt.stale && (rec.Status != SweepInterrupted || !strings.Contains(line, "interrupted")):
			t.Errorf("%s: after repair status %s, %q", tt.name, rec.Status, line)
		case !tt.stale && (rec.Status != SweepRunning || line != ""):
			t.Errorf("%s: a live sweep was repaired: %s %q", tt.name, rec.Status, line)
		}
	}
}

// A registration lives while the sweep does and is what cleanup repairs
// from; one whose directory is gone is forgotten.
func TestRegisterAndRepairCrashed(t *testing.T) {
	t.Setenv("TMPDIR", t.TempDir())
	dir := t.TempDir()
	unregister, err := Register(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := Save(dir, &Sweep{SchemaVersion: SchemaVersion, Status: SweepRunning, Owner: CurrentOwner()}); err != nil {
		t.Fatal(err)
	}
	if done, err := RepairCrashed(); err != nil || len(done) != 0 {
		t.Errorf("a live sweep was repaired: %v %v", done, err)
	}
	unregister()
	if regs, _ := filepath.Glob(filepath.Join(RegistryDir(), "*.json")); len(regs) != 0 {
		t.Errorf("unregister left %v", regs)
	}
	gone := filepath.Join(RegistryDir(), "2-2.json")
	os.WriteFile(gone, []byte(`{"owner":{"pid":2147483000,"start_ticks":2},"dir":"/nonexistent/sweep"}`), 0o600)
	if done, err := RepairCrashed(); err != nil || len(done) != 0 {
		t.Errorf("a registration of a vanished directory: %v %v", done, err)
	}
	if _, err := os.Stat(gone); !os.IsNotExist(err) {
		t.Error("the registration of a vanished directory stays")
	}
}
