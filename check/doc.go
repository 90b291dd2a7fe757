// Package check owns proxysizer's onboarding checks: a catalogue of the
// pitfalls the field reports paid for (lifecycle, resources and scaling,
// traffic, configuration scope), run over an in-memory set of Kubernetes and
// Istio objects and Istio's mesh configuration. Each finding names its check,
// its severity, what breaks and when, a ready patch or snippet, and its
// sources. The set comes from manifests (files, directories, stdin) or from a
// live cluster; the checks never care which. A Request is a run as a person
// asks for it (manifests or a cluster, the checks, the failing severity);
// its Check gives a Job that reads the objects and runs. It also renders
// the findings as a table grouped by workload, JSON and SARIF 2.1.0.
package check
