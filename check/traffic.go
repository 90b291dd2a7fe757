package check

import (
	"fmt"
	"slices"
	"strings"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/wrapperspb"
	networking "istio.io/api/networking/v1alpha3"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/proxysizer/proxysizer/sizing"
)

// fqdn completes an Istio host name relative to the namespace of the
// resource that names it: "web" and "web.shop" become
// web.shop.svc.cluster.local.
func fqdn(host, ns, domain string) string {
	switch strings.Count(host, ".") {
	case 0:
		return host + "." + ns + ".svc." + domain
	case 1:
		return host + ".svc." + domain
	}
	if strings.HasSuffix(host, ".svc") {
		return host + "." + domain
	}
	return host
}

// hostMatches says whether an Istio host (maybe "*.suffix") names fqdn.
func hostMatches(host, ns, domain, target string) bool {
	if host == "*" {
		return true
	}
	if suffix, ok := strings.CutPrefix(host, "*"); ok {
		return strings.HasSuffix(target, suffix)
	}
	return fqdn(host, ns, domain) == target
}

func (e *evaluation) serviceFQDN(svc *corev1.Service) string {
	return svc.Name + "." + svc.Namespace + ".svc." + e.set.clusterDomain()
}

// grpcPorts are a Service's ports Istio treats as gRPC: named grpc or
// grpc-*, or with appProtocol grpc or grpc-web.
func grpcPorts(svc *corev1.Service) []string {
	var out []string
	for _, p := range svc.Spec.Ports {
		ap := ""
		if p.AppProtocol != nil {
			ap = *p.AppProtocol
		}
		if ap == "grpc" || ap == "grpc-web" || p.Name == "grpc" || p.Name == "grpc-web" || strings.HasPrefix(p.Name, "grpc-") {
			out = append(out, fmt.Sprintf("%s/%d", p.Name, p.Port))
		}
	}
	return out
}

// behind lists the injected workloads a Service selects.
func (e *evaluation) behind(svc *corev1.Service) []*workload {
	var out []*workload
	for _, w := range e.workloads {
		if w.injected && slices.Contains(w.services, svc) {
			out = append(out, w)
		}
	}
	return out
}

// groupForHost is the table group of a finding about traffic to a host:
// the workload behind it when the set has it, else the object itself.
func (e *evaluation) groupForHost(target string, fallback Ref) string {
	for _, svc := range e.set.Services {
		if e.serviceFQDN(svc) != target {
			continue
		}
		if ws := e.behind(svc); len(ws) > 0 {
			return ws[0].group()
		}
	}
	return fallback.String()
}

func checkHeadlessGRPC(e *evaluation) {
	for _, svc := range e.set.Services {
		if svc.Spec.ClusterIP != corev1.ClusterIPNone {
			continue
		}
		ports := grpcPorts(svc)
		ws := e.behind(svc)
		if len(ports) == 0 || len(ws) == 0 {
			continue
		}
		clusterIP := &corev1.Service{
			TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Service"},
			ObjectMeta: metav1.ObjectMeta{Name: svc.Name + "-clusterip", Namespace: svc.Namespace, Labels: svc.Labels},
			Spec:       corev1.ServiceSpec{Selector: svc.Spec.Selector},
		}
		for _, p := range svc.Spec.Ports {
			if p.TargetPort.IntValue() == 0 && p.TargetPort.StrVal == "" {
				p.TargetPort = intstr.FromInt32(p.Port) // the API server's default
			}
			clusterIP.Spec.Ports = append(clusterIP.Spec.Ports, p)
		}
		manifest, err := sizing.CleanObject(clusterIP)
		if err != nil {
			manifest = []byte(fmt.Sprintf("# cannot render the Service: %v\n", err))
		}
		note := ""
		for _, w := range ws {
			if w.ref.Kind == "StatefulSet" {
				note = "; keep the headless one if it is a StatefulSet's serviceName (pod DNS)"
			}
		}
		e.report(Ref{Kind: "Service", Namespace: svc.Namespace, Name: svc.Name}, ws[0].group(),
			fmt.Sprintf("headless Service %s (clusterIP: None) fronts gRPC port(s) %s of %s: clients dial pod IPs themselves, so Envoy's per-request HTTP/2 balancing does not apply", svc.Name, strings.Join(ports, ", "), ws[0].ref),
			Fix{Summary: "add a ClusterIP Service beside it and move the gRPC clients to it (clusterIP cannot be changed in place)" + note,
				Kind: fixManifest, Patch: string(manifest)})
	}
}

// Label names Istio reads, in its order (injection template: canonical-name
// and canonical-revision).
var (
	appLabels     = []string{"service.istio.io/canonical-name", "app.kubernetes.io/name", "app"}
	versionLabels = []string{"service.istio.io/canonical-revision", "app.kubernetes.io/version", "version"}
)

func checkAppVersionLabels(e *evaluation) {
	for _, w := range e.workloads {
		if !w.injected {
			continue
		}
		has := func(names []string) bool {
			return slices.ContainsFunc(names, func(n string) bool { return w.tpl.Labels[n] != "" })
		}
		add := map[string]string{}
		var missing, alternatives []string
		if !has(appLabels) {
			app := w.ref.Name
			if w.selector != nil && w.selector.MatchLabels["app"] != "" {
				app = w.selector.MatchLabels["app"]
			}
			add["app"], missing, alternatives = app, append(missing, "app"), append(alternatives, appLabels[:2]...)
		}
		if !has(versionLabels) {
			add["version"], missing, alternatives = "v1", append(missing, "version"), append(alternatives, versionLabels[:2]...)
		}
		if len(missing) == 0 {
			continue
		}
		e.report(w.ref, w.group(),
			fmt.Sprintf("the pod template has no %s label (nor %s): Istio's telemetry falls back to the workload name and \"latest\", and DestinationRule subsets cannot select its pods", strings.Join(missing, " or "), strings.Join(alternatives, ", ")),
			Fix{Summary: "add the labels to the pod template only, not to spec.selector (a Deployment's selector is immutable); version v1 is a placeholder for your release",
				Kind: fixStrategic, Target: w.patchTarget(), Patch: podTemplatePatch(nil, add, nil)})
	}
}

// Istio's default retry policy (pilot/pkg/networking/core/route/retry).
const (
	istioDefaultRetryOn       = "connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes"
	istioDefaultRetryAttempts = 2
	safeRetryOn               = "connect-failure,refused-stream"
)

// safeConditions never fire after the request reached the app.
var safeConditions = []string{"connect-failure", "refused-stream", "reset-before-request", "envoy-ratelimited", "http3-post-connect-failure"}

// effectiveRetry is the policy Istio applies to a route: the route's, the
// mesh's defaultHttpRetryPolicy, else Istio's default; retryOn defaults
// to Istio's list. attempts 0 disables retries.
func effectiveRetry(route *networking.HTTPRetry, mesh *Mesh) (attempts int32, retryOn, from string) {
	p, from := route, "the route's retries"
	if p == nil {
		p, from = mesh.Config.GetDefaultHttpRetryPolicy(), "the mesh's defaultHttpRetryPolicy"
	}
	if p == nil {
		return istioDefaultRetryAttempts, istioDefaultRetryOn, "Istio's default retry policy"
	}
	retryOn = p.GetRetryOn()
	if retryOn == "" {
		retryOn, from = istioDefaultRetryOn, from+" with Istio's default retryOn"
	}
	return p.GetAttempts(), retryOn, from
}

// unsafeConditions lists the retry conditions that may fire after the app
// ran the call (status codes included).
func unsafeConditions(retryOn string) []string {
	var out []string
	for _, c := range strings.Split(retryOn, ",") {
		c = strings.TrimSpace(c)
		if c == "" || slices.Contains(safeConditions, c) {
			continue
		}
		if c == "retriable-status-codes" && !strings.ContainsAny(retryOn, "0123456789") {
			continue // with no codes listed it only honours x-envoy-retriable-status-codes
		}
		out = append(out, c)
	}
	return out
}

// meshRoutesFor lists the VirtualServices bound to the mesh that route a host.
func (e *evaluation) meshRoutesFor(target string) []IstioObject[*networking.VirtualService] {
	var out []IstioObject[*networking.VirtualService]
	for _, vs := range e.set.VirtualServices {
		gws := vs.Spec.GetGateways()
		if len(gws) > 0 && !slices.Contains(gws, "mesh") {
			continue
		}
		if slices.ContainsFunc(vs.Spec.GetHosts(), func(h string) bool { return hostMatches(h, vs.Namespace, e.set.clusterDomain(), target) }) {
			out = append(out, vs)
		}
	}
	return out
}

func checkDefaultRetries(e *evaluation) {
	for _, svc := range e.set.Services {
		ports := grpcPorts(svc)
		ws := e.behind(svc)
		if len(ports) == 0 || len(ws) == 0 {
			continue
		}
		target := e.serviceFQDN(svc)
		vss := e.meshRoutesFor(target)
		if len(vss) == 0 {
			attempts, retryOn, from := effectiveRetry(nil, e.mesh)
			bad := unsafeConditions(retryOn)
			if attempts <= 0 || len(bad) == 0 {
				continue
			}
			vs := &networking.VirtualService{Hosts: []string{target}, Http: []*networking.HTTPRoute{{
				Route:   []*networking.HTTPRouteDestination{{Destination: &networking.Destination{Host: target}}},
				Retries: &networking.HTTPRetry{Attempts: istioDefaultRetryAttempts, RetryOn: safeRetryOn},
			}}}
			e.report(Ref{Kind: "Service", Namespace: svc.Namespace, Name: svc.Name}, ws[0].group(),
				fmt.Sprintf("no VirtualService sets retries for gRPC port(s) %s of %s: %s applies (%d retries on %s), and %s may fire after the server ran the call", strings.Join(ports, ", "), target, from, attempts, retryOn, strings.Join(bad, ", ")),
				Fix{Summary: fmt.Sprintf("retry only what never reached the app (%s) for this host; mesh-wide instead: meshConfig.defaultHttpRetryPolicy {attempts: 2, retryOn: %s}", safeRetryOn, safeRetryOn),
					Kind: fixManifest, Patch: newIstioManifest("networking.istio.io/v1", "VirtualService", svc.Namespace, svc.Name, vs)})
			continue
		}
		for _, vs := range vss {
			e.checkRouteRetries(vs, target, ports, ws[0].group())
		}
	}
}

func (e *evaluation) checkRouteRetries(vs IstioObject[*networking.VirtualService], target string, ports []string, group string) {
	fixed := proto.Clone(vs.Spec).(*networking.VirtualService)
	var names []string
	detail := ""
	for i, r := range vs.Spec.GetHttp() {
		if !e.routesTo(r, vs.Namespace, target) {
			continue
		}
		attempts, retryOn, from := effectiveRetry(r.GetRetries(), e.mesh)
		bad := unsafeConditions(retryOn)
		if attempts <= 0 || len(bad) == 0 || (r.GetRetries() != nil && r.GetRetries().GetRetryOn() != "") {
			continue // retries off, safe, or chosen explicitly by the route
		}
		names = append(names, routeName(r, i))
		detail = fmt.Sprintf("%s (%d retries on %s; %s may fire after the server ran the call)", from, attempts, retryOn, strings.Join(bad, ", "))
		nr := fixed.Http[i]
		if nr.Retries == nil {
			nr.Retries = &networking.HTTPRetry{Attempts: istioDefaultRetryAttempts}
		}
		nr.Retries.RetryOn = safeRetryOn
	}
	if len(names) == 0 {
		return
	}
	e.report(Ref{Kind: "VirtualService", Namespace: vs.Namespace, Name: vs.Name}, group,
		fmt.Sprintf("route(s) %s of VirtualService %s carry gRPC (%s) to %s under %s", strings.Join(names, ", "), vs.Name, strings.Join(ports, ", "), target, detail),
		Fix{Summary: "retry only what never reached the app: retryOn " + safeRetryOn + " on those routes", Kind: fixManifest, Patch: istioManifest(vs, fixed)})
}

// routesTo says whether an HTTP route sends traffic to the host.
func (e *evaluation) routesTo(r *networking.HTTPRoute, ns, target string) bool {
	return slices.ContainsFunc(r.GetRoute(), func(d *networking.HTTPRouteDestination) bool {
		return d.GetDestination() != nil && hostMatches(d.GetDestination().GetHost(), ns, e.set.clusterDomain(), target)
	})
}

func routeName(r *networking.HTTPRoute, i int) string {
	if r.GetName() != "" {
		return fmt.Sprintf("%q", r.GetName())
	}
	return fmt.Sprintf("#%d", i)
}

// trafficPolicies lists every traffic policy of a DestinationRule: its own,
// its port-level settings, and its subsets'.
func trafficPolicies(dr *networking.DestinationRule) []*networking.TrafficPolicy {
	var out []*networking.TrafficPolicy
	add := func(p *networking.TrafficPolicy) {
		if p == nil {
			return
		}
		out = append(out, p)
		for _, pl := range p.GetPortLevelSettings() {
			out = append(out, &networking.TrafficPolicy{LoadBalancer: pl.GetLoadBalancer(), OutlierDetection: pl.GetOutlierDetection()})
		}
	}
	add(dr.GetTrafficPolicy())
	for _, s := range dr.GetSubsets() {
		add(s.GetTrafficPolicy())
	}
	return out
}

// destinationRulesFor lists the DestinationRules whose host names target.
func (e *evaluation) destinationRulesFor(target string) []IstioObject[*networking.DestinationRule] {
	var out []IstioObject[*networking.DestinationRule]
	for _, dr := range e.set.DestinationRules {
		if hostMatches(dr.Spec.GetHost(), dr.Namespace, e.set.clusterDomain(), target) {
			out = append(out, dr)
		}
	}
	return out
}

// stickyRetries says why retries to a host may return to the host that
// failed, or "" when Istio moves them elsewhere.
func (e *evaluation) stickyRetries(target string) string {
	meshLocality := e.mesh.Config.GetLocalityLbSetting().GetEnabled()
	localityOn := meshLocality == nil || meshLocality.GetValue()
	for _, dr := range e.destinationRulesFor(target) {
		for _, p := range trafficPolicies(dr.Spec) {
			if p.GetLoadBalancer().GetConsistentHash() != nil {
				return fmt.Sprintf("DestinationRule %s/%s balances %s by consistent hash, so Istio does not steer retries away from the host that failed", dr.Namespace, dr.Name, target)
			}
			if p.GetOutlierDetection() != nil && localityOn {
				if en := p.GetLoadBalancer().GetLocalityLbSetting().GetEnabled(); en != nil && !en.GetValue() {
					continue
				}
				return fmt.Sprintf("DestinationRule %s/%s sets outlier detection on %s, which turns locality load balancing on: retries stay in the locality that failed", dr.Namespace, dr.Name, target)
			}
		}
	}
	return ""
}

func checkRetryRemoteLocalities(e *evaluation) {
	for _, vs := range e.set.VirtualServices {
		fixed := proto.Clone(vs.Spec).(*networking.VirtualService)
		var names []string
		why, host := "", ""
		for i, r := range vs.Spec.GetHttp() {
			rt := r.GetRetries()
			if rt == nil || rt.GetAttempts() <= 0 || rt.GetRetryRemoteLocalities().GetValue() {
				continue
			}
			reason := ""
			if v := rt.GetRetryIgnorePreviousHosts(); v != nil && !v.GetValue() {
				reason = "retryIgnorePreviousHosts is false, so a retry may pick the host that failed"
			}
			for _, d := range r.GetRoute() {
				target := fqdn(d.GetDestination().GetHost(), vs.Namespace, e.set.clusterDomain())
				if s := e.stickyRetries(target); s != "" && reason == "" {
					reason, host = s, target
				}
			}
			if reason == "" {
				continue
			}
			names, why = append(names, routeName(r, i)), reason
			fixed.Http[i].Retries.RetryRemoteLocalities = wrapperspb.Bool(true)
		}
		if len(names) == 0 {
			continue
		}
		ref := Ref{Kind: "VirtualService", Namespace: vs.Namespace, Name: vs.Name}
		e.report(ref, e.groupForHost(host, ref),
			fmt.Sprintf("route(s) %s of VirtualService %s retry without retryRemoteLocalities: %s", strings.Join(names, ", "), vs.Name, why),
			Fix{Summary: "let retries move to other localities: retryRemoteLocalities: true", Kind: fixManifest, Patch: istioManifest(vs, fixed)})
	}
}

// outlierEffective says whether an OutlierDetection ejects a failing host
// within 4 errors: consecutive5xxErrors (default 5, 0 off) or
// consecutiveGatewayErrors (default off) between 1 and 4.
func outlierEffective(od *networking.OutlierDetection) (bool, string) {
	c5 := uint32(5)
	if v := od.GetConsecutive_5XxErrors(); v != nil {
		c5 = v.GetValue()
	}
	gw := uint32(0)
	if v := od.GetConsecutiveGatewayErrors(); v != nil {
		gw = v.GetValue()
	}
	if (c5 >= 1 && c5 <= 4) || (gw >= 1 && gw <= 4) {
		return true, ""
	}
	desc := fmt.Sprintf("consecutive5xxErrors %d", c5)
	if od.GetConsecutive_5XxErrors() == nil {
		desc += " (the default)"
	}
	if c5 == 0 {
		desc = "consecutive5xxErrors 0 (off)"
	}
	if gw > 0 {
		desc += fmt.Sprintf(", consecutiveGatewayErrors %d", gw)
	}
	return false, desc
}

// recommendedOutlier ejects a host after its first 502/503/504 (what a
// gone pod answers) for 10s: the blog's setting, on gateway errors so that
// the app's own 500s do not eject pods.
func recommendedOutlier(od *networking.OutlierDetection) *networking.OutlierDetection {
	if od == nil {
		od = &networking.OutlierDetection{}
	}
	od.ConsecutiveGatewayErrors = wrapperspb.UInt32(1)
	if od.BaseEjectionTime == nil {
		od.BaseEjectionTime = durationpb.New(10e9)
	}
	return od
}

func checkOutlierDetection(e *evaluation) {
	for _, dr := range e.set.DestinationRules {
		ref := Ref{Kind: "DestinationRule", Namespace: dr.Namespace, Name: dr.Name}
		group := e.groupForHost(fqdn(dr.Spec.GetHost(), dr.Namespace, e.set.clusterDomain()), ref)
		fixed := proto.Clone(dr.Spec).(*networking.DestinationRule)
		summary := "eject a host after its first gateway error (502/503/504, what a terminated pod answers) for 10s; consecutive5xxErrors: 1, as in the blog, ejects on any 5xx"
		policies := trafficPolicies(dr.Spec)
		if !slices.ContainsFunc(policies, func(p *networking.TrafficPolicy) bool { return p.GetOutlierDetection() != nil }) {
			if fixed.TrafficPolicy == nil {
				fixed.TrafficPolicy = &networking.TrafficPolicy{}
			}
			fixed.TrafficPolicy.OutlierDetection = recommendedOutlier(nil)
			e.report(ref, group,
				fmt.Sprintf("DestinationRule %s sets no outlier detection for %s: Istio applies none by default, so clients keep sending to a terminated pod until the xDS push removes it", dr.Name, dr.Spec.GetHost()),
				Fix{Summary: summary, Kind: fixManifest, Patch: istioManifest(dr, fixed)})
			continue
		}
		var weak []string
		for _, p := range trafficPolicies(fixed) {
			if od := p.GetOutlierDetection(); od != nil {
				if ok, desc := outlierEffective(od); !ok {
					weak = append(weak, desc)
					recommendedOutlier(od)
				}
			}
		}
		if len(weak) == 0 {
			continue
		}
		e.report(ref, group,
			fmt.Sprintf("DestinationRule %s ejects a failing host of %s only after %s: each client meets that many failures per terminated pod first", dr.Name, dr.Spec.GetHost(), strings.Join(dedupe(weak), "; ")),
			Fix{Summary: summary, Kind: fixManifest, Patch: istioManifest(dr, fixed)})
	}
}
