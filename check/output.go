package check

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/proxysizer/proxysizer/sizing"
)

// WriteJSON writes the report as indented JSON (the README's contract).
func WriteJSON(w io.Writer, r *Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// counts is "3 error(s), 2 warning(s), 1 info".
func (r *Report) summary() string {
	n := map[Severity]int{}
	for _, f := range r.Findings {
		n[f.Severity]++
	}
	return fmt.Sprintf("%d finding(s): %d error, %d warning, %d info", len(r.Findings), n[Error], n[Warning], n[Info])
}

// WriteTable writes the findings grouped by workload, each with its fix in
// one line; -o fixes prints the patches themselves.
func WriteTable(w io.Writer, r *Report) error {
	b := &strings.Builder{}
	fmt.Fprintf(b, "Inputs: %s\n", strings.Join(r.Inputs, ", "))
	fmt.Fprintf(b, "Mesh config: %s\n", r.Mesh)
	fmt.Fprintf(b, "Kubernetes %s%s, Istio %s%s\n", r.Environment.Kubernetes, paren(r.Environment.KubernetesSource), r.Environment.Istio, paren(r.Environment.IstioSource))
	fmt.Fprintf(b, "%d check(s) run, %s\n", len(r.Checks)-len(r.NotEvaluated), r.summary())
	group := ""
	for _, f := range r.Findings {
		if f.Workload != group {
			group = f.Workload
			fmt.Fprintf(b, "\n%s\n", group)
		}
		about := ""
		if f.Object.String() != f.Workload {
			about = f.Object.String() + ": "
		}
		fmt.Fprintf(b, "  %-7s  %s  %s%s\n", f.Severity, f.Check, about, f.Message)
		fmt.Fprintf(b, "  %-7s  %s  fix: %s\n", "", strings.Repeat(" ", len(f.Check)), f.Fix.Summary)
	}
	if len(r.NotEvaluated) > 0 {
		fmt.Fprintf(b, "\nNOT EVALUATED\n")
		for _, n := range r.NotEvaluated {
			fmt.Fprintf(b, "  %s  %s\n", n.Check, n.Reason)
		}
	}
	if len(r.Assumptions) > 0 {
		fmt.Fprintf(b, "\nASSUMPTIONS\n")
		for _, a := range r.Assumptions {
			fmt.Fprintf(b, "  - %s\n", a)
		}
	}
	if len(r.Findings) > 0 {
		fmt.Fprintf(b, "\nPatches: -o fixes; what each check guards against and its sources: docs/checks.md\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func paren(s string) string {
	if s == "" {
		return ""
	}
	return " (" + s + ")"
}

// WriteFixes writes the findings' patches and manifests as YAML documents,
// one per object (the patches for one workload merged), with comments
// saying which findings each fixes and how to apply it.
func WriteFixes(w io.Writer, r *Report) error {
	b := &strings.Builder{}
	for i, f := range combinedFixes(r.Findings) {
		if i > 0 {
			b.WriteString("---\n")
		}
		fmt.Fprintf(b, "# %s\n", f.Summary)
		switch f.Kind {
		case fixStrategic:
			fmt.Fprintf(b, "# apply: %s\n", f.Target)
		case fixManifest:
			b.WriteString("# apply: kubectl apply -f FIX.yaml\n")
		case fixMesh:
			b.WriteString("# merge into meshConfig (IstioOperator spec.meshConfig, or the istio ConfigMap's mesh key)\n")
		}
		b.WriteString(f.Patch)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// combinedFixes merges the strategic-merge patches aimed at one object into
// one document, so applying them in turn cannot undo each other: the
// proxy.istio.io/config annotation is one string that each patch replaces
// whole, so its documents are merged field by field.
func combinedFixes(fs []Finding) []Fix {
	var out []Fix
	index := map[string]int{}
	for _, f := range fs {
		fix := f.Fix
		fix.Summary = f.Check + ": " + fix.Summary
		if fix.Kind != fixStrategic {
			out = append(out, fix)
			continue
		}
		i, seen := index[fix.Target]
		if !seen {
			index[fix.Target] = len(out)
			out = append(out, fix)
			continue
		}
		merged, err := mergePatchDocs(out[i].Patch, fix.Patch)
		if err != nil {
			out = append(out, fix)
			continue
		}
		out[i].Patch = merged
		out[i].Summary += "\n# " + fix.Summary
	}
	return out
}

func mergePatchDocs(a, b string) (string, error) {
	var ma, mb map[string]any
	if err := yaml.Unmarshal([]byte(a), &ma); err != nil {
		return "", err
	}
	if err := yaml.Unmarshal([]byte(b), &mb); err != nil {
		return "", err
	}
	return toYAML(mergeMaps(ma, mb)), nil
}

func mergeMaps(a, b map[string]any) map[string]any {
	for k, vb := range b {
		va, ok := a[k]
		switch {
		case !ok:
			a[k] = vb
		case k == sizing.AnnotationProxyConfig:
			a[k] = mergeProxyConfigDocs(fmt.Sprint(va), fmt.Sprint(vb))
		default:
			ma, aIsMap := va.(map[string]any)
			mb, bIsMap := vb.(map[string]any)
			if aIsMap && bIsMap {
				a[k] = mergeMaps(ma, mb)
			} else {
				a[k] = vb
			}
		}
	}
	return a
}

func mergeProxyConfigDocs(a, b string) string {
	var ma, mb map[string]any
	if yaml.Unmarshal([]byte(a), &ma) != nil || yaml.Unmarshal([]byte(b), &mb) != nil || ma == nil {
		return b
	}
	return toYAML(mergeMaps(ma, mb))
}
