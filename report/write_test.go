package report

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/proxysizer/proxysizer/internal/fsguard"
	"github.com/proxysizer/proxysizer/results"
)

// A move into place that fails half-way puts back every file it had
// already replaced: the report is written whole or not at all.
func TestCommitRollsBack(t *testing.T) {
	into := t.TempDir()
	os.WriteFile(filepath.Join(into, results.MarkerFile), nil, 0o644)
	os.WriteFile(filepath.Join(into, HTMLFile), []byte("old html"), 0o644)
	os.WriteFile(filepath.Join(into, MarkdownFile), []byte("old md"), 0o644)
	before := fsguard.Snap(t, into)
	st, err := results.NewStage(into, files, dirs)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(st.Dir(), HTMLFile), []byte("new html"), 0o644)
	os.WriteFile(filepath.Join(st.Dir(), MarkdownFile), []byte("new md"), 0o644)
	// steps.csv was never staged: its move fails after two succeeded.
	if err := st.Commit([]string{HTMLFile, MarkdownFile, CSVFile}); err == nil {
		t.Fatal("commit of a missing file succeeded")
	}
	st.Discard()
	before.AssertUnchanged(t)
}

// A report into a new directory that fails leaves no directory behind,
// and into an existing empty one, no mark of ours.
func TestFailedReportLeavesNothing(t *testing.T) {
	in := fitted(t)
	base := t.TempDir()
	src := filepath.Join(base, "results")
	if err := os.CopyFS(src, os.DirFS(in.Source)); err != nil {
		t.Fatal(err)
	}
	in.Source = src
	run := filepath.Join(src, in.Sweep.Steps[5].FortioFile)
	os.Remove(run)
	fsguard.Sparse(t, run, 65<<20) // over the limit: the export fails half-way
	empty := filepath.Join(base, "empty")
	os.Mkdir(empty, 0o755)
	before := fsguard.Snap(t, base)
	for _, out := range []string{filepath.Join(base, "new", "deeper"), empty} {
		if _, err := Write(out, in); err == nil || !strings.Contains(err.Error(), "more than 64 MiB") {
			t.Errorf("Write(%s) = %v, want the run file's size", out, err)
		}
	}
	before.AssertUnchanged(t)
}
