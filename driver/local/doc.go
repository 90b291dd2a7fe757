// Package local is the sweep's embedded default backend: real proxy
// processes on this machine. It runs a lab app (fortio's echo server, and a
// fortio MultiServer that fans each request out to k downstream calls back
// through the proxy), starts one of Proxies() at each concurrency in a
// cgroup whose CFS quota enforces the CPU limit as Kubernetes does, pins the
// proxy and the load generator to separate CPUs where there are enough, and
// measures the proxy's CPU, throttling and memory from its cgroup and its
// request counts from the proxy's own statistics. Everything it creates is
// recorded in a state file so that `proxysizer cleanup`, or the next sweep,
// removes what a killed sweep left behind. Request is the lab as a person
// asks for it (the proxy, cgroups, pinning); Config checks it against a
// sweep's options, keeping what a resumed sweep recorded.
package local
