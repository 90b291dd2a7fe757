// Package results owns a sweep's results directory: sweep.json (settings,
// environment, proxy, the baseline, searches and the step list with each
// step's status, and the process sweeping while it runs), one JSON per step
// with fortio's result beside it, and the atomic writes that keep every
// finished step on disk when a sweep is interrupted or killed. Both
// backends write it; fit and report read it, only from inside it (links
// included). It also owns the rules of every output directory proxysizer
// writes into (CheckOutputDir: new, empty, or ours by sweep.json or the
// .proxysizer mark; Stage: a set of files written whole or not at all),
// and the registry of running sweeps from which a killed sweep's record is
// repaired (RepairCrashed).
package results
