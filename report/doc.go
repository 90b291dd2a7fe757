// Package report owns the files a sweep hands to a team: report.html (drawn
// by package charts), report.md (a summary to paste into a capacity-planning
// document or a pull request), steps.csv, fortio/ (the runs' own fortio JSON,
// for `fortio report -data-dir`) and smp.json (the runs in the Service Mesh
// Performance spec's shape). Write makes them all from a sweep's analysis
// (package analysis): its steps always, its fit and recommendation when it
// could be fitted. It also owns what a terminal shows of an analysis: the fit
// command's text and JSON (FitResult), the recommendation, a sweep's steps,
// and Finish, the end of a sweep (the steps, the costs, the recommendation,
// the report files).
package report
