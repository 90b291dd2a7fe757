// Package sweep drives a backend through a sweep's grid: for each Envoy
// concurrency x CPU-limit setting it starts the proxy, optionally searches
// its maximum throughput, measures each rate, and stops it. It writes
// sweep.json after every step (atomically), resumes an interrupted or
// killed sweep from the options its sweep.json recorded, and runs the same
// whether the backend is the local lab or a cluster. A Request is a sweep
// as a person asks for it, with the sweep's defaults and the ranges of its
// inputs; its Options method checks it, and the results directory, before
// any backend starts, naming each problem's field (an *input.Error).
package sweep
