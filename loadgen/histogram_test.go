package loadgen

import (
	"math/rand/v2"
	"testing"

	"fortio.org/fortio/stats"
)

// TestRecordMatchesFortio records the same values with fortio's Record and
// with record: every bucket count and the counter must agree, for values
// on each bucket limit, just around it, below zero and past the last one.
func TestRecordMatchesFortio(t *testing.T) {
	values := []float64{-1, 0, 1e-9, 0.5, 1e6, 2e6}
	for _, limit := range bucketValues {
		for _, d := range []float64{-0.5, -1e-9, 0, 1e-9, 0.5} {
			values = append(values, (float64(limit)+d)*histogramResolution)
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		values = append(values, rng.ExpFloat64()*0.01) // latencies around 10 ms
	}
	for _, divider := range []float64{histogramResolution, 100, 5} {
		theirs, ours := stats.NewHistogram(0, divider), stats.NewHistogram(0, divider)
		for _, v := range values {
			theirs.Record(v * divider / histogramResolution)
			record(ours, v*divider/histogramResolution)
		}
		recordN(ours, 3*divider, 4)
		for range 4 {
			theirs.Record(3 * divider)
		}
		for i := range theirs.Hdata {
			if theirs.Hdata[i] != ours.Hdata[i] {
				t.Errorf("divider %g, bucket %d: fortio %d, record %d", divider, i, theirs.Hdata[i], ours.Hdata[i])
			}
		}
		a, b := theirs.Export(), ours.Export()
		if a.Count != b.Count || a.Min != b.Min || a.Max != b.Max || a.Sum != b.Sum || a.StdDev != b.StdDev {
			t.Errorf("divider %g: fortio %+v, record %+v", divider, a, b)
		}
	}
}

// BenchmarkRecordFortio and BenchmarkRecord are the evidence for record:
// fortio's Record boxes its arguments for a debug log on every call (go
// test -bench Record -benchmem ./loadgen, on the 2-vCPU VM: 3 allocations,
// 31 B and 69 ns per call against none and 6 ns), which at 75k calls/s was
// 99% of the engine's allocations.
func BenchmarkRecordFortio(b *testing.B) {
	h := stats.NewHistogram(0, histogramResolution)
	b.ReportAllocs()
	for i := range b.N {
		h.Record(float64(i%1000) * 1e-5)
	}
}

func BenchmarkRecord(b *testing.B) {
	h := stats.NewHistogram(0, histogramResolution)
	b.ReportAllocs()
	for i := range b.N {
		record(h, float64(i%1000)*1e-5)
	}
}
