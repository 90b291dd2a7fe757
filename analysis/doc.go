// Package analysis turns a loaded sweep into what every reader of it needs:
// the fit of each setting (package fit), the setting recommended for a
// target with its runner-up and rejections, the chosen setting sized in full
// with its pod annotations, every warning, and, when the sweep cannot be
// fitted, why. The fit command, the report, a sweep's finish, the charts and
// the tests all read one Analysis. Analyze does no I/O; WriteProfile writes
// the fitted profile, and only that. Request is an analysis as a person asks
// for it (target, headroom, objective, configuration size); Options checks it.
package analysis
