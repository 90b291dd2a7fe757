package cmd

// The hostile-input tables: one test per class of hole the adversarial
// probe of issue 13 found, each holding every input the issue lists and
// more. Every case asserts the whole contract: the exit status, one line
// on stderr naming the flag or file, nothing on stdout, and the
// filesystem untouched (no file created, replaced or half-written), within
// a few seconds (a device or a pipe read forever is a hang).

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/proxysizer/proxysizer/internal/fsguard"
	"github.com/proxysizer/proxysizer/internal/sweeptest"
	"github.com/proxysizer/proxysizer/internal/testenv"
	"github.com/proxysizer/proxysizer/results"
)

// hostile is one bad input: its command line, the exit status (0 means
// exitBadInput), what the one line on stderr must hold, and the trees the
// command must leave as they were.
type hostile struct {
	name  string
	args  []string
	code  int
	want  []string
	trees []string
	// env is set for the case only.
	env map[string]string
}

// hangAfter is how long a refused command may take: refusing is a check,
// not a read of /dev/zero.
const hangAfter = 10 * time.Second

// assertHostile runs c in-process and checks the contract.
func assertHostile(t *testing.T, c hostile) {
	t.Helper()
	for k, v := range c.env {
		t.Setenv(k, v)
	}
	before := fsguard.Snap(t, c.trees...)
	type result struct {
		code           int
		stdout, stderr string
	}
	done := make(chan result, 1)
	go func() {
		var stdout, stderr bytes.Buffer
		code := Execute(c.args, &stdout, &stderr)
		done <- result{code, stdout.String(), stderr.String()}
	}()
	var r result
	select {
	case r = <-done:
	case <-time.After(hangAfter):
		t.Fatalf("%v: no answer within %v (reading forever?)", c.args, hangAfter)
	}
	want := c.code
	if want == 0 {
		want = exitBadInput
	}
	if r.code != want {
		t.Errorf("exit status %d, want %d (stderr %q)", r.code, want, r.stderr)
	}
	if r.stdout != "" {
		t.Errorf("stdout not empty: %q", headLines(r.stdout, 3))
	}
	if strings.Count(strings.TrimRight(r.stderr, "\n"), "\n") != 0 || r.stderr == "" {
		t.Errorf("stderr is not one line: %q", r.stderr)
	}
	for _, w := range c.want {
		if !strings.Contains(r.stderr, w) {
			t.Errorf("stderr %q lacks %q", r.stderr, w)
		}
	}
	for _, leak := range []string{"strconv.", "invalid syntax", "&{", "%!", "goroutine", "panic"} {
		if strings.Contains(r.stderr, leak) {
			t.Errorf("stderr %q shows Go internals (%q)", r.stderr, leak)
		}
	}
	before.AssertUnchanged(t)
}

func runHostile(t *testing.T, cases []hostile) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { assertHostile(t, c) })
	}
}

// copyResults copies the recorded haproxy sweep (sweep.json, steps/,
// baseline/) to dir and returns dir.
func copyResults(t *testing.T, dir string) string {
	t.Helper()
	if err := os.CopyFS(dir, os.DirFS(sweeptest.HAProxySweep)); err != nil {
		t.Fatal(err)
	}
	return dir
}

// editSweep rewrites dir/sweep.json through edit, on the decoded JSON.
func editSweep(t *testing.T, dir string, edit func(map[string]any)) {
	t.Helper()
	path := filepath.Join(dir, results.FileName)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	edit(m)
	if data, err = json.Marshal(m); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func entry(m map[string]any, list string, i int) map[string]any {
	return m[list].([]any)[i].(map[string]any)
}

func mkdirs(t *testing.T, paths ...string) {
	t.Helper()
	for _, p := range paths {
		if err := os.MkdirAll(p, 0o755); err != nil {
			t.Fatal(err)
		}
	}
}

func writeFiles(t *testing.T, files map[string]string) {
	t.Helper()
	for path, content := range files {
		mkdirs(t, filepath.Dir(path))
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func symlink(t *testing.T, target, link string) {
	t.Helper()
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
}

// Class: where the tool writes. The writer never replaces a device, a pipe
// or a link, never writes over a directory, writes a report whole or not
// at all, and never into a directory of files that are not its own.
func TestHostileOutputs(t *testing.T) {
	n := fsguard.MakeNodes(t)
	base := t.TempDir()
	src := copyResults(t, filepath.Join(base, "results"))
	regular := filepath.Join(base, "regular.txt")
	writeFiles(t, map[string]string{regular: "not a directory"})

	// A results directory whose profile.yaml, smp.json or fortio/ is of
	// the wrong kind: the report must not be written in part.
	profileDir := copyResults(t, filepath.Join(base, "profile-dir"))
	mkdirs(t, filepath.Join(profileDir, "profile.yaml"))
	smpDir := copyResults(t, filepath.Join(base, "smp-dir"))
	mkdirs(t, filepath.Join(smpDir, "smp.json"))
	fortioFile := copyResults(t, filepath.Join(base, "fortio-file"))
	writeFiles(t, map[string]string{filepath.Join(fortioFile, "fortio"): "a file where fortio/ goes"})
	htmlLink := copyResults(t, filepath.Join(base, "html-link"))
	symlink(t, n.Null, filepath.Join(htmlLink, "report.html"))
	// A run file that is a named pipe: the report fails half-way through
	// its export, after report.html was rendered, and must leave nothing.
	pipeRun := copyResults(t, filepath.Join(base, "pipe-run"))
	os.Remove(filepath.Join(pipeRun, "steps", "011-c2-l1-600rps.fortio.json"))
	if err := os.Link(n.FIFO, filepath.Join(pipeRun, "steps", "011-c2-l1-600rps.fortio.json")); err != nil {
		t.Fatal(err)
	}

	// Directories of someone else's files, which must not be overwritten.
	unrelated := filepath.Join(base, "unrelated")
	writeFiles(t, map[string]string{
		filepath.Join(unrelated, "report.md"): "my notes", filepath.Join(unrelated, "steps.csv"): "a,b",
		filepath.Join(unrelated, "profile.yaml"): "mine", filepath.Join(unrelated, "summary.json"): "{}",
	})
	oneStranger := filepath.Join(base, "one-stranger")
	writeFiles(t, map[string]string{filepath.Join(oneStranger, "README"): "hello"})
	// Ours (it holds the marker), but steps/ is a file.
	markedBadSteps := filepath.Join(base, "marked")
	writeFiles(t, map[string]string{filepath.Join(markedBadSteps, results.MarkerFile): "", filepath.Join(markedBadSteps, "steps"): "x"})
	sweepFIFO := filepath.Join(base, "sweep-fifo")
	mkdirs(t, sweepFIFO)
	if err := os.Link(n.FIFO, filepath.Join(sweepFIFO, results.FileName)); err != nil {
		t.Fatal(err)
	}

	markedSummaryDir := filepath.Join(base, "marked-summary")
	writeFiles(t, map[string]string{filepath.Join(markedSummaryDir, results.MarkerFile): ""})
	mkdirs(t, filepath.Join(markedSummaryDir, "summary.json"))
	mdDir := copyResults(t, filepath.Join(base, "md-dir"))
	mkdirs(t, filepath.Join(mdDir, "report.md"))
	markedBadPatches := filepath.Join(base, "marked-patches")
	writeFiles(t, map[string]string{filepath.Join(markedBadPatches, results.MarkerFile): "", filepath.Join(markedBadPatches, "patches"): "x"})

	trees := []string{base, n.Dir}
	fit := func(out string) []string { return []string{"fit", src, "-o", out} }
	load := func(out string) []string { return []string{"load", testenv.ClosedPortURL(t), "--out", out} }
	replay := func(out string) []string {
		return []string{"hpa", "-n", "shop", "web", "--replay", "--prometheus-url", "http://127.0.0.1:1", "--replay-out", out}
	}
	capacity := func(out string) []string {
		return []string{"capacity", "-n", "shop", "--prometheus-url", "http://127.0.0.1:1", "--out", out}
	}
	runHostile(t, []hostile{
		{name: "fit -o a private /dev/full: ENOSPC, the node stays", args: fit(n.Full), want: []string{"--output", n.Full, "no space left on device"}, trees: trees},
		{name: "fit -o a directory", args: fit(n.Dir), want: []string{"--output", n.Dir, "is a directory"}, trees: trees},
		{name: "fit -o a link to a directory", args: fit(n.LinkToDir), want: []string{"--output", "is a directory"}, trees: trees},
		{name: "fit -o a link to nothing", args: fit(n.Dangling), want: []string{"--output", "symbolic link to a file that does not exist"}, trees: trees},
		{name: "fit -o a named pipe nobody reads", args: fit(n.FIFO), want: []string{"--output", n.FIFO, "named pipe that no process reads"}, trees: trees},
		{name: "fit -o below a regular file", args: fit(filepath.Join(regular, "profile.yaml")), want: []string{"--output", regular, "not a directory"}, trees: trees},
		{name: "fit DIR whose profile.yaml is a directory", args: []string{"fit", profileDir}, want: []string{"profile.yaml", "is a directory where proxysizer writes a file"}, trees: trees},
		{name: "report DIR whose smp.json is a directory", args: []string{"report", smpDir}, want: []string{"smp.json", "is a directory where proxysizer writes a file"}, trees: trees},
		{name: "report --out D whose smp.json is a directory", args: []string{"report", src, "--out", smpDir}, want: []string{"--out", "smp.json", "is a directory"}, trees: trees},
		{name: "report DIR whose fortio/ is a file", args: []string{"report", fortioFile}, want: []string{"fortio", "is a regular file where proxysizer writes a directory"}, trees: trees},
		{name: "report DIR whose report.html is a link", args: []string{"report", htmlLink}, want: []string{"report.html", "is a symbolic link where proxysizer writes a file"}, trees: trees},
		{name: "report DIR whose run is a named pipe: nothing written", args: []string{"report", pipeRun}, want: []string{"011-c2-l1-600rps.fortio.json", "a named pipe"}, trees: trees},
		{name: "report --out a directory of unrelated files", args: []string{"report", src, "--out", unrelated}, want: []string{"--out", unrelated, "holds files proxysizer did not write", "profile.yaml, report.md, steps.csv"}, trees: trees},
		{name: "report --out a directory with one stranger", args: []string{"report", src, "--out", oneStranger}, want: []string{"--out", "holds files proxysizer did not write (README)"}, trees: trees},
		{name: "report --out a regular file", args: []string{"report", src, "--out", regular}, want: []string{"--out", regular, "is a regular file, not a directory"}, trees: trees},
		{name: "report --out a device", args: []string{"report", src, "--out", n.Null}, want: []string{"--out", "is a character device, not a directory"}, trees: trees},
		{name: "report --out below a regular file", args: []string{"report", src, "--out", filepath.Join(regular, "r")}, want: []string{"--out", "not a directory"}, trees: trees},
		{name: "sweep --out a directory of unrelated files", args: []string{"sweep", "--out", unrelated}, want: []string{"--out", "holds files proxysizer did not write"}, trees: trees},
		{name: "sweep --out a regular file", args: []string{"sweep", "--out", regular}, want: []string{"--out", regular, "not a directory"}, trees: trees},
		{name: "sweep --out a directory of ours whose steps/ is a file", args: []string{"sweep", "--out", markedBadSteps}, want: []string{"--out", "steps", "where proxysizer writes a directory"}, trees: trees},
		{name: "sweep --out a directory whose sweep.json is a named pipe", args: []string{"sweep", "--out", sweepFIFO}, want: []string{"--out", "sweep.json", "a named pipe"}, trees: trees},
		{name: "sweep --out an existing sweep", args: []string{"sweep", "--out", src}, want: []string{"--out", "already holds a sweep", "--resume"}, trees: trees},
		{name: "load --out a directory of unrelated files", args: load(unrelated), want: []string{"--out", "holds files proxysizer did not write", "and 1 more"}, trees: trees},
		{name: "load --out a regular file", args: load(regular), want: []string{"--out", "not a directory"}, trees: trees},
		{name: "load --out a directory of ours whose summary.json is a directory", args: load(markedSummaryDir), want: []string{"--out", "summary.json", "is a directory where proxysizer writes a file"}, trees: trees},
		{name: "load --find-max --out a directory of unrelated files", args: append(load(unrelated), "--find-max"), want: []string{"--out", "holds files proxysizer did not write"}, trees: trees},
		{name: "hpa --replay-out a directory", args: replay(n.Dir), want: []string{"--replay-out", "is a directory"}, trees: trees},
		{name: "hpa --replay-out a link to nothing", args: replay(n.Dangling), want: []string{"--replay-out", "symbolic link to a file that does not exist"}, trees: trees},
		{name: "hpa --replay-out below a regular file", args: replay(filepath.Join(regular, "page.html")), want: []string{"--replay-out", "existing directory"}, trees: trees},
		{name: "capacity --out a directory of unrelated files", args: capacity(unrelated), want: []string{"--out", "holds files proxysizer did not write"}, trees: trees},
		{name: "capacity --out a regular file", args: capacity(regular), want: []string{"--out", "not a directory"}, trees: trees},
		{name: "capacity --out a directory of ours whose patches/ is a file", args: capacity(markedBadPatches), want: []string{"--out", "patches", "where proxysizer writes a directory"}, trees: trees},
		{name: "capacity --out a results directory whose report.md is a directory", args: capacity(mdDir), want: []string{"--out", "report.md", "is a directory where proxysizer writes a file"}, trees: trees},
	})
}

// The writes a user asks for into a device or through a link succeed and
// leave the node or link as it was.
func TestOutputsIntoDevicesAndLinks(t *testing.T) {
	n := fsguard.MakeNodes(t)
	src := copyResults(t, filepath.Join(t.TempDir(), "results"))
	before := fsguard.Snap(t, n.Dir)
	for _, out := range []string{n.Null, n.LinkToNull} {
		code, stdout, stderr := run(t, "fit", src, "-o", out)
		if code != 0 || !strings.Contains(stdout, "Profile: "+out) {
			t.Errorf("fit -o %s: exit %d, stderr %q", out, code, stderr)
		}
	}
	before.AssertUnchanged(t)
}

// Class: what a results directory names. Every file read from it resolves
// inside it, links included; a record naming anything else, or a file
// that is not a regular one of bounded size, is refused before anything
// is written.
func TestHostileResultsDirectory(t *testing.T) {
	n := fsguard.MakeNodes(t)
	base := t.TempDir()
	secretDir := filepath.Join(base, "outside")
	secret := filepath.Join(secretDir, "shadow")
	writeFiles(t, map[string]string{secret: "root:$6$secret:19000:0:99999:7:::"})
	outsideSweep := copyResults(t, filepath.Join(base, "outside-sweep"))

	dir := func(name string, edit func(string)) string {
		d := copyResults(t, filepath.Join(base, name))
		edit(d)
		return d
	}
	upAndOut := strings.Repeat("../", 12) + strings.TrimPrefix(secret, "/")
	escapeStep := dir("escape-step", func(d string) {
		editSweep(t, d, func(m map[string]any) { entry(m, "steps", 0)["fortio_file"] = upAndOut })
	})
	escapeShadow := dir("escape-etc-shadow", func(d string) {
		editSweep(t, d, func(m map[string]any) { entry(m, "steps", 3)["fortio_file"] = "../../../../etc/shadow" })
	})
	absolute := dir("absolute", func(d string) {
		editSweep(t, d, func(m map[string]any) { entry(m, "baseline", 1)["fortio_file"] = secret })
	})
	escapeFile := dir("escape-file", func(d string) {
		editSweep(t, d, func(m map[string]any) { entry(m, "steps", 2)["file"] = "steps/../../x.json" })
	})
	linkOut := dir("link-out", func(d string) {
		f := filepath.Join(d, "steps", "000-c1-l500m-200rps.fortio.json")
		os.Remove(f)
		symlink(t, secret, f)
	})
	relLinkOut := dir("relative-link-out", func(d string) {
		f := filepath.Join(d, "baseline", "200rps.fortio.json")
		os.Remove(f)
		symlink(t, "../../outside/shadow", f)
	})
	stepsLinkOut := dir("steps-link-out", func(d string) {
		os.RemoveAll(filepath.Join(d, "steps"))
		symlink(t, filepath.Join(outsideSweep, "steps"), filepath.Join(d, "steps"))
	})
	recordLinkOut := filepath.Join(base, "record-link-out")
	mkdirs(t, recordLinkOut)
	symlink(t, filepath.Join(outsideSweep, results.FileName), filepath.Join(recordLinkOut, results.FileName))
	zeroRecord := filepath.Join(base, "zero-record")
	mkdirs(t, zeroRecord)
	if err := os.Link(n.Zero, filepath.Join(zeroRecord, results.FileName)); err != nil {
		t.Fatal(err)
	}
	fifoRecord := filepath.Join(base, "fifo-record")
	mkdirs(t, fifoRecord)
	if err := os.Link(n.FIFO, filepath.Join(fifoRecord, results.FileName)); err != nil {
		t.Fatal(err)
	}
	hugeRecord := filepath.Join(base, "huge-record")
	mkdirs(t, hugeRecord)
	fsguard.Sparse(t, filepath.Join(hugeRecord, results.FileName), 129<<20)
	zeroRun := dir("zero-run", func(d string) {
		f := filepath.Join(d, "steps", "005-c1-l1-600rps.fortio.json")
		os.Remove(f)
		if err := os.Link(n.Zero, f); err != nil {
			t.Fatal(err)
		}
	})
	hugeRun := dir("huge-run", func(d string) {
		fsguard.Sparse(t, filepath.Join(d, "steps", "004-c1-l1-400rps.fortio.json"), 65<<20)
	})
	dirRecord := filepath.Join(base, "dir-record")
	mkdirs(t, filepath.Join(dirRecord, results.FileName))
	notADir := filepath.Join(base, "not-a-dir")
	writeFiles(t, map[string]string{notADir: "x"})

	trees := []string{base, n.Dir}
	var cases []hostile
	for _, command := range []string{"report", "fit"} {
		cases = append(cases,
			hostile{name: command + ": fortio_file ../../../../etc/shadow", args: []string{command, escapeShadow}, want: []string{"steps[3].fortio_file", "../../../../etc/shadow", "not a file inside the results directory"}, trees: trees},
			hostile{name: command + ": fortio_file climbing out to a secret", args: []string{command, escapeStep}, want: []string{"steps[0].fortio_file", "not a file inside the results directory"}, trees: trees},
			hostile{name: command + ": an absolute fortio_file", args: []string{command, absolute}, want: []string{"baseline[1].fortio_file", secret}, trees: trees},
			hostile{name: command + ": a step file out of the directory", args: []string{command, escapeFile}, want: []string{"steps[2].file", "steps/../../x.json"}, trees: trees},
			hostile{name: command + ": sweep.json is a link out", args: []string{command, recordLinkOut}, want: []string{"sweep.json", "resolves outside its directory"}, trees: trees},
			hostile{name: command + ": sweep.json is a private /dev/zero", args: []string{command, zeroRecord}, want: []string{"sweep.json", "a character device"}, trees: trees},
			hostile{name: command + ": sweep.json is a named pipe", args: []string{command, fifoRecord}, want: []string{"sweep.json", "a named pipe"}, trees: trees},
			hostile{name: command + ": sweep.json of 129 MiB", args: []string{command, hugeRecord}, want: []string{"sweep.json", "too large: more than 128 MiB"}, trees: trees},
			hostile{name: command + ": sweep.json is a directory", args: []string{command, dirRecord}, want: []string{"sweep.json", "a directory"}, trees: trees},
			hostile{name: command + ": the results directory is a file", args: []string{command, notADir}, want: []string{notADir, "not a directory"}, trees: trees},
		)
	}
	// Only the report reads the runs' files.
	cases = append(cases,
		hostile{name: "report: a run file linking to a secret", args: []string{"report", linkOut}, want: []string{"000-c1-l500m-200rps.fortio.json", "resolves outside its directory"}, trees: trees},
		hostile{name: "report: a run file linking out relatively", args: []string{"report", relLinkOut}, want: []string{"baseline/200rps.fortio.json", "resolves outside its directory"}, trees: trees},
		hostile{name: "report: steps/ links out of the directory", args: []string{"report", stepsLinkOut}, want: []string{"steps/", "resolves outside its directory"}, trees: trees},
		hostile{name: "report: a run file is a private /dev/zero", args: []string{"report", zeroRun}, want: []string{"005-c1-l1-600rps.fortio.json", "a character device"}, trees: trees},
		hostile{name: "report: a run file of 65 MiB", args: []string{"report", hugeRun}, want: []string{"004-c1-l1-400rps.fortio.json", "more than 64 MiB"}, trees: trees},
		hostile{name: "report --out elsewhere: the secret is not copied", args: []string{"report", escapeStep, "--out", filepath.Join(base, "new-report")}, want: []string{"not a file inside the results directory"}, trees: trees},
	)
	runHostile(t, cases)
}

func headLines(s string, n int) string {
	lines := strings.SplitN(s, "\n", n+1)
	if len(lines) > n {
		lines = lines[:n]
	}
	return fmt.Sprint(strings.Join(lines, "\n"))
}
