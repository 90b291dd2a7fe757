// Package charts owns report.html: a self-contained page for a sweep, drawn
// from its analysis (package analysis) with go-echarts. It charts proxy CPU
// against sidecar RPS with each setting's fitted curves and the chosen
// setting's prediction interval, the maximum RPS per concurrency x CPU limit,
// latency against load with and without the proxy (service time, and from
// intended send times; repeats as their median with a min-max band),
// throttling, memory and the hops decomposition, beside the recommendation
// card, every warning and, for a stand-in, what its figures describe. The
// Apache ECharts script is embedded from assets/ (fetched at build time by
// scripts/fetch-echarts.sh) and inlined, so the page works offline. Every
// text from the results directory reaches the page through html/template,
// which escapes it for HTML and for JavaScript. The page's own script records
// what each chart rendered in <pre id="render-check">, which the Chromium
// test reads. Summarize gives the page's text, which report.md shares.
package charts
