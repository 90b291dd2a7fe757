// Package results owns a sweep's results directory: sweep.json (settings,
// environment, proxy, the baseline, searches and the step list with each
// step's status), one JSON per step with fortio's result beside it, and the
// atomic writes that keep every finished step on disk when a sweep is
// interrupted or killed. Both backends write it; fit and report read it.
package results
