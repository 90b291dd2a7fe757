package loadgen

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"slices"

	"github.com/proxysizer/proxysizer/results"
)

// SummaryFile is the summary a Job leaves in its SaveDir, beside fortio's
// JSON of each run.
const SummaryFile = "summary.json"

// CheckSaveDir says whether dir can take a Job's results: new, empty, or
// proxysizer's own (results.CheckOutputDir), with no directory where
// SummaryFile goes. A Job checks it before any load, so that a search's
// work is not lost to a directory that cannot take it.
func CheckSaveDir(dir string) error {
	if err := results.CheckOutputDir(dir, []string{SummaryFile}, nil); err != nil {
		return fieldErr(FieldSaveDir, "%v", err)
	}
	return nil
}

// saveRuns writes fortio's JSON of each run (named by its key, or by
// fortio's run ID for "") and summary as SummaryFile into dir: all of them
// or none (results.Stage), into a directory of proxysizer's own only.
func saveRuns(dir string, runs map[string]*Result, summary any) error {
	st, err := results.NewStage(dir, []string{SummaryFile}, nil)
	if err != nil {
		return fieldErr(FieldSaveDir, "%v", err)
	}
	defer st.Discard()
	names := []string{SummaryFile}
	for _, key := range slices.Sorted(maps.Keys(runs)) {
		res, name := runs[key], key
		if name == "" {
			name = res.Fortio().Result().ID
		}
		data, err := res.FortioJSON()
		if err != nil {
			return fmt.Errorf("encode fortio result: %w", err)
		}
		if err := results.WriteFileAtomic(filepath.Join(st.Dir(), name+".json"), data); err != nil {
			return fieldErr(FieldSaveDir, "%v", err)
		}
		names = append(names, name+".json")
	}
	data, err := json.MarshalIndent(summary, "", "  ")
	if err != nil {
		return err
	}
	if err := results.WriteFileAtomic(filepath.Join(st.Dir(), SummaryFile), append(data, '\n')); err != nil {
		return fieldErr(FieldSaveDir, "%v", err)
	}
	if err := st.Commit(names); err != nil {
		return fieldErr(FieldSaveDir, "%v", err)
	}
	return nil
}

// ErrEveryCallFailed is a job that measured nothing: every call of its run
// (or of every step of its search) failed. Do returns it after the figures
// are saved, so a caller can still show them.
var ErrEveryCallFailed = errors.New("every call failed: see the errors and codes above")
