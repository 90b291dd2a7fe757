package cmd

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/proxysizer/proxysizer/analysis"
	"github.com/proxysizer/proxysizer/report"
	"github.com/proxysizer/proxysizer/results"
)

// reportInput gives what the report is made of, with the command lines it
// shows (in this CLI's flags); profile is where the fitted profile goes.
func reportInput(a *analysis.Analysis, profile string) report.Input {
	return report.Input{Analysis: a, PlanCommand: planCommand(a, profile), ReproduceCommand: reproduceCommand(a.Sweep),
		FitCommand: "proxysizer fit " + a.Source}
}

// planCommand sizes with the fitted profile at the chosen setting; empty
// without a choice.
func planCommand(a *analysis.Analysis, profile string) string {
	b := a.Recommendation.Best
	if b == nil {
		return ""
	}
	return fmt.Sprintf("proxysizer plan --profile %s --rps-per-pod %g --outbound-per-request %d --concurrency %d --cpu-limit %s",
		profile, a.TargetInboundRPS, a.Sweep.Options.OutboundPerRequest, b.Concurrency, b.LimitString())
}

// reproduceCommand is the sweep command line that measures rec's grid again.
func reproduceCommand(rec *results.Sweep) string {
	o := rec.Options
	var b strings.Builder
	fmt.Fprintf(&b, "proxysizer sweep --backend %s --proxy %s --concurrency %s --cpu-limit %s --rates %s",
		orDefault(rec.Backend, "local"), orDefault(rec.Proxy.Name, "auto"), commaList(o.Concurrency, strconv.Itoa),
		commaList(o.CPULimitMillicores, results.LimitString), commaList(o.Rates, func(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }))
	if o.FindMax {
		b.WriteString(" --find-max")
		if o.SLOP99Ms > 0 {
			fmt.Fprintf(&b, " --slo-p99 %s", time.Duration(o.SLOP99Ms*float64(time.Millisecond)))
		}
	}
	fmt.Fprintf(&b, " --outbound-per-request %d --duration %s --warmup %s --connections %d --protocol %s",
		o.OutboundPerRequest, seconds(o.DurationSeconds), seconds(o.WarmupSeconds), o.Connections, o.Protocol)
	if o.PayloadBytes > 0 {
		fmt.Fprintf(&b, " --payload-size %d", o.PayloadBytes)
	}
	if !rec.Environment.CPULimitsEnforced && rec.Backend == "local" {
		b.WriteString(" --no-cpu-limit")
	}
	return b.String() + " --out DIR"
}

func commaList[T any](xs []T, format func(T) string) string {
	parts := make([]string, len(xs))
	for i, x := range xs {
		parts[i] = format(x)
	}
	return strings.Join(parts, ",")
}

func orDefault(s, d string) string {
	if strings.TrimSpace(s) == "" {
		return d
	}
	return s
}

func seconds(s float64) string { return time.Duration(s * float64(time.Second)).String() }
