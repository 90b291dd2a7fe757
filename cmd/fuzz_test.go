package cmd

import (
	"bytes"
	"encoding/json"
	"math"
	"strings"
	"testing"
)

// FuzzPlanFlags: whatever values plan's flags get, it answers in its
// contract: exit 0 with a JSON plan whose every number is finite, or exit
// 2 with one line on stderr and nothing on stdout; never a panic (which
// Execute turns into exit 1), never an encoding error.
func FuzzPlanFlags(f *testing.F) {
	// rps-per-pod, requests-per-call, cpu-limit, endpoints, concurrency,
	// headroom, then any further arguments separated by spaces.
	f.Add("1e20", "1", "auto", "150", "", "0.15", "")
	f.Add("1.79e308", "1", "auto", "150", "", "0.15", "")
	f.Add("100", "1", "1Ei", "9223372036854775807", "", "0.15", "")
	f.Add("100", "1", "auto", "150", "", "0.15", "--app-cpu-request 1 --hpa-target 70 --max-replicas 3000000000")
	f.Add("1e6", "1000", "none", "10000000", "1024", "10", "--clusters 1000000 --memory-limit-ratio 100")
	f.Add("NaN", "-1", "0", "-1", "0", "-0.5", "--retry-ratio 2")
	f.Add("400", "1", "1500m", "150", "4", "0.15", "--outbound-per-request 3 --authz-calls 1 --retry-ratio 0.1 --k8s-version 1.30 --app-cpu-request 500m --hpa-target 80 --app-cpu-per-krps 0.000001")
	f.Add("abc", "1.5e3", "auto", "1.5", "x", "1e999", "--profile /dev/zero")
	f.Fuzz(func(t *testing.T, rps, perCall, cpuLimit, endpoints, concurrency, headroom, extra string) {
		args := []string{"plan", "-o", "json", "--rps-per-pod", rps, "--requests-per-call", perCall, "--cpu-limit", cpuLimit,
			"--endpoints", endpoints, "--headroom", headroom}
		if concurrency != "" {
			args = append(args, "--concurrency", concurrency)
		}
		for _, a := range strings.Fields(extra) {
			if strings.HasPrefix(a, "--profile") || strings.HasPrefix(a, "-o") || strings.HasPrefix(a, "--output") {
				continue // files and formats are other tests' inputs
			}
			args = append(args, a)
		}
		var stdout, stderr bytes.Buffer
		code := Execute(args, &stdout, &stderr)
		switch code {
		case exitOK:
			var plan any
			if err := json.Unmarshal(stdout.Bytes(), &plan); err != nil {
				t.Fatalf("%q: exit 0 with output that is not JSON: %v", args, err)
			}
			walkNumbers(plan, func(path string, x float64) {
				if math.IsNaN(x) || math.IsInf(x, 0) {
					t.Fatalf("%q: %s = %v", args, path, x)
				}
			})
		case exitBadInput:
			if stdout.Len() > 0 || strings.Count(strings.TrimRight(stderr.String(), "\n"), "\n") != 0 || stderr.Len() == 0 {
				t.Fatalf("%q: exit 2 with stdout %q and stderr %q", args, stdout.String(), stderr.String())
			}
		default:
			t.Fatalf("%q: exit %d: %s", args, code, stderr.String())
		}
	})
}
