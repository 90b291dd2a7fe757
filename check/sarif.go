package check

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/owenrumney/go-sarif/v3/pkg/report"
	"github.com/owenrumney/go-sarif/v3/pkg/report/v210/sarif"
)

// docsURI is where each check is described, for SARIF helpUri.
const docsURI = "https://github.com/proxysizer/proxysizer/blob/main/docs/checks.md"

// WriteSARIF writes the report as SARIF 2.1.0: one rule per check run,
// one result per finding, located at the manifest file and line when the
// object came from one, and always by the object's logical name.
func WriteSARIF(w io.Writer, r *Report, toolVersion string) error {
	log := report.NewV210Report()
	run := sarif.NewRunWithInformationURI("proxysizer", "https://github.com/proxysizer/proxysizer")
	run.Tool.Driver.WithVersion(toolVersion)
	for _, c := range r.Checks {
		rule := run.AddRule(c.ID).
			WithName(c.Name).
			WithShortDescription(sarif.NewMultiformatMessageString().WithText(c.Title)).
			WithFullDescription(sarif.NewMultiformatMessageString().WithText(c.Breaks)).
			WithHelpURI(docsURI + "#" + strings.ToLower(c.ID)).
			WithHelp(sarif.NewMultiformatMessageString().WithText(ruleHelpText(c)).WithMarkdown(ruleHelpMarkdown(c))).
			WithDefaultConfiguration(sarif.NewReportingConfiguration().WithLevel(c.Severity.SARIFLevel()))
		rule.WithProperties(sarif.NewPropertyBag().WithTags([]string{"istio", string(c.Category)}))
	}
	for _, f := range r.Findings {
		res := run.CreateResultForRule(f.Check).
			WithLevel(f.Severity.SARIFLevel()).
			WithMessage(sarif.NewTextMessage(f.Message + " Fix: " + f.Fix.Summary))
		loc := sarif.NewLocation().WithLogicalLocations([]*sarif.LogicalLocation{
			sarif.NewLogicalLocation().WithName(f.Object.Name).WithKind("object").
				WithFullyQualifiedName(f.Object.String()),
		})
		if uri, line := originURI(f.Origin); uri != "" {
			pl := sarif.NewPhysicalLocation().WithArtifactLocation(sarif.NewSimpleArtifactLocation(uri))
			if line > 0 {
				pl.WithRegion(sarif.NewRegion().WithStartLine(line))
			}
			loc.WithPhysicalLocation(pl)
			run.AddDistinctArtifact(uri)
		}
		res.AddLocation(loc)
		res.WithPartialFingerprints(map[string]string{"proxysizerFinding/v1": fingerprint(f)})
		res.WithProperties(sarif.NewPropertyBag().
			Add("workload", f.Workload).
			Add("breaks", f.Breaks).
			Add("fixKind", f.Fix.Kind).
			Add("fixTarget", f.Fix.Target).
			Add("fixPatch", f.Fix.Patch))
	}
	log.AddRun(run)
	return log.PrettyWrite(w)
}

// originURI is a finding's file as a relative URI (forward slashes), the
// Helm template when the manifest came rendered on stdin.
func originURI(o *Origin) (string, int) {
	switch {
	case o == nil || o.Cluster:
		return "", 0
	case o.File != "":
		return filepath.ToSlash(filepath.Clean(o.File)), o.Line
	case o.Template != "":
		return filepath.ToSlash(o.Template), 0
	}
	return "", 0
}

// fingerprint identifies a finding across runs: its check and object.
func fingerprint(f Finding) string {
	sum := sha256.Sum256([]byte(f.Check + "|" + f.Object.String()))
	return hex.EncodeToString(sum[:8])
}

func ruleHelpText(c Check) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n\nWhat breaks: %s\n", c.Title, c.Breaks)
	if c.Escalation != "" {
		fmt.Fprintf(&b, "Severity: %s\n", c.Escalation)
	}
	b.WriteString("Sources:\n")
	for _, s := range c.Sources {
		fmt.Fprintf(&b, "- %s %s\n", s.Title, s.URL)
	}
	return b.String()
}

func ruleHelpMarkdown(c Check) string {
	var b strings.Builder
	fmt.Fprintf(&b, "**%s** (%s)\n\n%s\n\n", c.Title, c.Severity, c.Breaks)
	if c.Escalation != "" {
		fmt.Fprintf(&b, "Severity: %s.\n\n", c.Escalation)
	}
	b.WriteString("Sources:\n")
	for _, s := range c.Sources {
		if s.URL != "" {
			fmt.Fprintf(&b, "- [%s](%s)\n", s.Title, s.URL)
		} else {
			fmt.Fprintf(&b, "- %s\n", s.Title)
		}
	}
	return b.String()
}
