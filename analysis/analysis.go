package analysis

import (
	"errors"
	"fmt"
	"time"

	"github.com/proxysizer/proxysizer/fit"
	"github.com/proxysizer/proxysizer/internal/input"
	"github.com/proxysizer/proxysizer/model"
	"github.com/proxysizer/proxysizer/profiles"
	"github.com/proxysizer/proxysizer/results"
)

// ProfileFile is the fitted profile's name in a results directory or beside
// a report.
const ProfileFile = "profile.yaml"

// Options say what to analyze a sweep for.
type Options struct {
	// ProfileName names the fitted profile; empty gives
	// measured-PROXY-TIMESTAMP.
	ProfileName string
	// Source is the results directory the sweep was read from: the
	// profile's provenance, and where a report finds the fortio results.
	Source string
	// TargetInboundRPS is the inbound RPS per pod to recommend for; 0 takes
	// the sweep's highest valid rate less the headroom.
	TargetInboundRPS float64
	// Headroom is the fraction added above the target.
	Headroom float64
	// SLOP99 is the p99 latency the chosen setting must keep; 0 takes the
	// sweep's own objective, if it had one.
	SLOP99 time.Duration
	// AllowConcurrencyAboveLimit lets a setting with more workers than
	// ceil(CPU limit) be chosen.
	AllowConcurrencyAboveLimit bool
	// Config is the configuration size the proxy will hold, for its memory;
	// zero assumes sizing's defaults (and says so).
	Config model.Config
	// Names shows the inputs the choice's plan names in the caller's words
	// (sizing.Input.Names).
	Names input.Names
}

// Analysis is a sweep with everything drawn from it.
type Analysis struct {
	Sweep *results.Sweep
	// Source is the results directory the sweep was read from.
	Source string
	// Fit is nil when the sweep could not be fitted; NotFitted says why.
	Fit       *fit.Report
	NotFitted error
	// Choice is the recommendation and the chosen setting's plan; zero
	// without a fit.
	Choice
	// Names shows the inputs in the caller's words, as Options.Names, for
	// the remarks an output of the analysis makes.
	Names input.Names
}

// Analyze fits rec and recommends a setting for o's target. A sweep that
// cannot be fitted is not an error: the Analysis holds it without a fit and
// says why, and a report can still be made of its steps. The error is for a
// broken build (the embedded reference profiles).
func Analyze(rec *results.Sweep, o Options) (*Analysis, error) {
	refs, err := profiles.Reference()
	if err != nil {
		return nil, err
	}
	// The hops check judges every step, also those recorded before the
	// sweep did: charts, tables and fit then agree on what is valid.
	rec = rec.WithHopsJudged()
	a := &Analysis{Sweep: rec, Source: o.Source, Names: o.Names}
	report, err := fit.FromSweep(rec, refs, fit.Options{Name: o.ProfileName, Source: o.Source})
	if errors.Is(err, fit.ErrNothingToFit) && o.Source != "" {
		// Too few measurements: name where more must go.
		err = fmt.Errorf("%s: %w", o.Source, err)
	}
	if err != nil {
		return a.WithoutFit(err), nil
	}
	choice, err := choose(rec, report, o)
	if err != nil {
		return a.WithoutFit(err), nil
	}
	a.Fit, a.Choice = report, choice
	return a, nil
}

// WithoutFit is the same sweep with no fit and no choice, for reason: what
// is left to report when a step after the fit failed.
func (a *Analysis) WithoutFit(reason error) *Analysis {
	return &Analysis{Sweep: a.Sweep, Source: a.Source, NotFitted: reason, Names: a.Names}
}

// WhyNotFitted is NotFitted as text, empty with a fit.
func (a *Analysis) WhyNotFitted() string {
	if a.NotFitted == nil {
		return ""
	}
	return a.NotFitted.Error()
}

// Warnings are every warning the analysis found: the fit's (a sweep not
// finished, the hops check), the recommendation's (indistinguishable
// settings, a wide interval, an uncertain curve, a lower-bound capacity),
// then the chosen setting's plan's. Every output shows all of them.
func (a *Analysis) Warnings() []string {
	var out []string
	seen := map[string]bool{}
	add := func(ws []string) {
		for _, w := range ws {
			if !seen[w] {
				seen[w] = true
				out = append(out, w)
			}
		}
	}
	if a.Fit != nil {
		add(a.Fit.Warnings)
	}
	add(a.Recommendation.Warnings)
	if a.Plan != nil {
		add(a.Plan.Warnings)
	}
	return out
}

// WriteProfile writes the fitted profile, in the format plan reads, to path.
func (a *Analysis) WriteProfile(path string) error {
	if a.Fit == nil {
		return fmt.Errorf("no profile to write: %w", a.NotFitted)
	}
	data, err := profiles.Marshal(a.Fit.Profile)
	if err != nil {
		return err
	}
	if err := results.WriteFileAtomic(path, data); err != nil {
		return fmt.Errorf("writing the profile: %w", err)
	}
	return nil
}
