package check

import (
	"fmt"
	"math"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// Agent environment variables (proxyMetadata entries become the proxy's env).
const (
	envExitOnZero = "EXIT_ON_ZERO_ACTIVE_CONNECTIONS"
	envMinDrain   = "MINIMUM_DRAIN_DURATION"
)

// agentEnv reads a pilot-agent variable: the template's istio-proxy
// container env, else ProxyConfig.proxyMetadata.
func (w *workload) agentEnv(name string) (string, bool) {
	for _, c := range append(append([]corev1.Container{}, w.tpl.Spec.Containers...), w.tpl.Spec.InitContainers...) {
		if c.Name != proxyName {
			continue
		}
		for _, e := range c.Env {
			if e.Name == name {
				return e.Value, true
			}
		}
	}
	v, ok := w.proxy.GetProxyMetadata()[name]
	return v, ok
}

func (w *workload) exitOnZero() bool {
	v, _ := w.agentEnv(envExitOnZero)
	return v == "true"
}

// drainSeconds is ProxyConfig.terminationDrainDuration (Istio's default 5s).
func (w *workload) drainSeconds() float64 {
	if d := w.proxy.GetTerminationDrainDuration(); d != nil {
		return d.AsDuration().Seconds()
	}
	return defaultDrainSeconds
}

// minDrainSeconds is MINIMUM_DRAIN_DURATION (pilot-agent's default 5s).
func (w *workload) minDrainSeconds() float64 {
	if v, ok := w.agentEnv(envMinDrain); ok {
		if d, err := time.ParseDuration(v); err == nil {
			return d.Seconds()
		}
	}
	return defaultMinDrainSeconds
}

// longestPreStop is the app container with the longest preStop sleep.
func (w *workload) longestPreStop() (string, float64) {
	name, longest := "", 0.0
	for _, c := range w.appContainers() {
		if s := preStopSleep(c); s > longest {
			name, longest = c.Name, s
		}
	}
	return name, longest
}

// lifecycleApplies says whether the start/stop races exist: an injected
// proxy that is not a native sidecar (the kubelet orders those itself).
func (w *workload) lifecycleApplies() bool { return w.injected && !w.native }

func checkHoldApplication(e *evaluation) {
	for _, w := range e.workloads {
		if !w.lifecycleApplies() {
			continue
		}
		if w.proxy.GetHoldApplicationUntilProxyStarts().GetValue() || e.mesh.HoldFromValues {
			continue
		}
		e.report(w.ref, w.group(),
			fmt.Sprintf("holdApplicationUntilProxyStarts is off (neither the mesh's defaultConfig nor %s sets it): %d app container(s) start beside istio-proxy instead of after it is ready", "proxy.istio.io/config", len(w.appContainers())),
			Fix{Summary: "hold the app until its proxy is ready (mesh-wide instead: meshConfig.defaultConfig.holdApplicationUntilProxyStarts: true)",
				Kind: fixStrategic, Target: w.patchTarget(),
				Patch: podTemplatePatch(w.withProxyConfig(map[string]any{"holdApplicationUntilProxyStarts": true}), nil, nil)})
	}
}

func checkDrainFitsGrace(e *evaluation) {
	for _, w := range e.workloads {
		if !w.lifecycleApplies() {
			continue
		}
		grace := float64(w.graceSeconds())
		drain := w.drainSeconds()
		container, preStop := w.longestPreStop()
		earliest, how := drain, "terminationDrainDuration "+seconds(drain)
		if w.exitOnZero() {
			earliest, how = w.minDrainSeconds(), envExitOnZero+" after "+envMinDrain+" "+seconds(w.minDrainSeconds())+" once no connection is open"
		}
		switch {
		case preStop > 0 && earliest < preStop:
			fix := Fix{Kind: fixStrategic, Target: w.patchTarget()}
			if w.exitOnZero() {
				want := math.Min(grace, preStop+5)
				fix.Summary = fmt.Sprintf("keep the proxy at least until the preStop sleep ends: %s=%s", envMinDrain, seconds(want))
				fix.Patch = podTemplatePatch(w.withProxyConfig(map[string]any{"proxyMetadata": map[string]any{envMinDrain: seconds(want)}}), nil, nil)
			} else {
				fix.Summary = fmt.Sprintf("drain for the grace period: terminationDrainDuration %s (add %s=\"true\" so pods without open connections still stop early)", seconds(grace), envExitOnZero)
				fix.Patch = podTemplatePatch(w.withProxyConfig(map[string]any{"terminationDrainDuration": seconds(grace)}), nil, nil)
			}
			e.report(w.ref, w.group(),
				fmt.Sprintf("container %q sleeps %s in preStop, still serving, but istio-proxy got SIGTERM at the same moment and can exit after %s (%s): the app is cut off for the last %s of its preStop", container, seconds(preStop), seconds(earliest), how, seconds(preStop-earliest)),
				fix)
		case !w.exitOnZero() && drain > grace:
			f := e.report(w.ref, w.group(),
				fmt.Sprintf("terminationDrainDuration %s exceeds terminationGracePeriodSeconds %s: the kubelet kills the proxy at %s, so the drain never completes and every pod takes the whole grace period to stop", seconds(drain), seconds(grace), seconds(grace)),
				Fix{Summary: fmt.Sprintf("drain within the grace period: terminationDrainDuration %s", seconds(grace)), Kind: fixStrategic, Target: w.patchTarget(),
					Patch: podTemplatePatch(w.withProxyConfig(map[string]any{"terminationDrainDuration": seconds(grace)}), nil, nil)})
			f.Severity = Warning
		}
	}
}

func checkPreStopWithinGrace(e *evaluation) {
	for _, w := range e.workloads {
		grace := float64(w.graceSeconds())
		for _, c := range append(w.appContainers(), proxyContainers(w.tpl.Spec)...) {
			sleep := preStopSleep(c)
			if sleep == 0 || sleep < grace {
				continue
			}
			want := int64(math.Ceil(sleep)) + defaultGraceSeconds
			e.report(w.ref, w.group(),
				fmt.Sprintf("container %q sleeps %s in its preStop hook, at least the %s grace period: the kubelet kills it before it ever gets SIGTERM", c.Name, seconds(sleep), seconds(grace)),
				Fix{Summary: fmt.Sprintf("give the app Kubernetes' default %ds of shutdown after its preStop: terminationGracePeriodSeconds %d (or shorten the sleep)", defaultGraceSeconds, want),
					Kind: fixStrategic, Target: w.patchTarget(),
					Patch: podTemplatePatch(nil, nil, map[string]any{"terminationGracePeriodSeconds": want})})
		}
	}
}

func proxyContainers(spec corev1.PodSpec) []corev1.Container {
	var out []corev1.Container
	for _, c := range append(append([]corev1.Container{}, spec.Containers...), spec.InitContainers...) {
		if c.Name == proxyName {
			out = append(out, c)
		}
	}
	return out
}

func checkExitOnZero(e *evaluation) {
	for _, w := range e.workloads {
		if !w.lifecycleApplies() || w.exitOnZero() {
			continue
		}
		drain, grace := w.drainSeconds(), float64(w.graceSeconds())
		meta := map[string]any{envExitOnZero: "true"}
		summary := fmt.Sprintf("let the proxy stay while connections are open and leave when they close: %s=\"true\"", envExitOnZero)
		if _, preStop := w.longestPreStop(); preStop >= defaultMinDrainSeconds {
			want := math.Min(grace, preStop+5)
			meta[envMinDrain] = seconds(want)
			summary += fmt.Sprintf(", with %s=%s so it outlasts the app's %s preStop", envMinDrain, seconds(want), seconds(preStop))
		}
		fix := Fix{Summary: summary, Kind: fixStrategic, Target: w.patchTarget(),
			Patch: podTemplatePatch(w.withProxyConfig(map[string]any{"proxyMetadata": meta}), nil, nil)}
		if drain < grace {
			e.report(w.ref, w.group(),
				fmt.Sprintf("%s is unset: istio-proxy exits %s after SIGTERM whatever the app is still doing, though the app may run until the %s grace period ends", envExitOnZero, seconds(drain), seconds(grace)),
				fix)
			continue
		}
		f := e.report(w.ref, w.group(),
			fmt.Sprintf("%s is unset: terminationDrainDuration %s covers the %s grace period, so every pod takes the full drain to stop even with no connection open", envExitOnZero, seconds(drain), seconds(grace)),
			fix)
		f.Severity = Info
	}
}

func checkNativeSidecars(e *evaluation) {
	env := e.set.Env
	if env.K8sVersion == nil || env.IstioVersion == nil {
		e.notEvaluated("needs both the Kubernetes and the Istio version (--k8s-version, --istio-version, a tag in the mesh configuration, or a live cluster)")
		return
	}
	if !env.K8sVersion.AtLeast(nativeK8sBeta) || !env.IstioVersion.AtLeast(nativeIstio) {
		return // not supported: Kubernetes 1.29+ (on by default) and Istio 1.19+ are needed
	}
	for _, w := range e.workloads {
		if !w.injected || w.native || !w.nativeKnown {
			continue
		}
		e.report(w.ref, w.group(),
			fmt.Sprintf("istio-proxy runs as a regular container (%s) although Kubernetes %s and Istio %s support native sidecars", w.nativeWhy, env.K8sVersion, env.IstioVersion),
			Fix{Summary: "inject istio-proxy as a native sidecar for this workload (mesh-wide instead: ENABLE_NATIVE_SIDECARS=true in istiod's env, values pilot.env)",
				Kind: fixStrategic, Target: w.patchTarget(),
				Patch: podTemplatePatch(map[string]string{annotationNativeSidecar: "true"}, nil, nil)})
	}
}
