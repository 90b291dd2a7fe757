package report

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"
	"time"

	"github.com/proxysizer/proxysizer/charts"
	"github.com/proxysizer/proxysizer/results"
)

// ErrSource is a results directory the report cannot read its runs from:
// a file that is not a regular file, too large, or outside it.
var ErrSource = errors.New("the results directory's runs cannot be read")

// fortioExport maps each source fortio file (relative to the results
// directory) to what the export knows about it.
type fortioExport struct {
	files   map[string]fortioRun
	missing []string
}

// fortioRun is the exported copy and the fields SMP takes from fortio's own
// result (the sweep record has no timestamps or minimum latency).
type fortioRun struct {
	Name      string // file name inside fortio/
	StartTime time.Time
	Duration  time.Duration
	MinMs     float64
}

// exportFortio copies every step's and baseline run's fortio result into
// dir. Each is read from inside the results directory, links included: a
// sweep.json that names a file elsewhere (../../etc/shadow, or a link to
// it) fails the export instead of copying it.
// Names start with the sweep's start time, as fortio names its own results,
// so that `fortio report -data-dir` lists a sweep's runs together and in
// order; the file content is fortio's result JSON as the run wrote it, whose
// Labels (the step's description) the UI shows as the run's title.
func exportFortio(in Input, dir string) (fortioExport, error) {
	out := fortioExport{files: map[string]fortioRun{}}
	var sources []string
	for _, r := range in.Sweep.Baseline {
		sources = append(sources, r.FortioFile)
	}
	for _, st := range charts.FinishedSteps(in.Sweep) {
		sources = append(sources, st.FortioFile)
	}
	prefix := in.Sweep.StartedAt.UTC().Format("2006-01-02-150405")
	root, err := results.OpenDir(in.Source)
	if err != nil {
		return out, fmt.Errorf("%w: %w", ErrSource, err)
	}
	defer root.Close()
	for _, src := range sources {
		if src == "" {
			continue
		}
		if _, done := out.files[src]; done {
			continue // a baseline rate rerun writes the same file
		}
		data, err := results.ReadRunFile(root, src)
		if errors.Is(err, fs.ErrNotExist) {
			out.missing = append(out.missing, src)
			continue
		}
		if err != nil {
			return out, fmt.Errorf("%w: %w", ErrSource, err)
		}
		run := fortioRun{Name: prefix + "_" + exportName(src)}
		var head struct {
			StartTime         time.Time
			ActualDuration    int64
			DurationHistogram struct{ Min float64 }
		}
		if json.Unmarshal(data, &head) == nil {
			run.StartTime, run.Duration, run.MinMs = head.StartTime, time.Duration(head.ActualDuration), head.DurationHistogram.Min*1000
		}
		if err := results.WriteFileAtomic(filepath.Join(dir, run.Name), data); err != nil {
			return out, err
		}
		out.files[src] = run
	}
	return out, nil
}

// exportName flattens steps/000-c1-l500m-300rps.fortio.json into
// 000-c1-l500m-300rps.json and baseline/300rps.fortio.json into
// baseline-300rps.json.
func exportName(src string) string {
	base := strings.TrimSuffix(filepath.Base(src), ".fortio.json")
	if d := filepath.Base(filepath.Dir(src)); d != "steps" && d != "." {
		base = d + "-" + base
	}
	return strings.TrimSuffix(base, ".json") + ".json"
}
