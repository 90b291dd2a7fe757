package loadgen

import (
	"fortio.org/fortio/stats"
)

// Recording into fortio's histograms without fortio's Record.
//
// stats.Histogram.Record boxes five values for a debug log line on every
// call, logging or not: two allocations per call, 99% of this engine's
// allocations at 75,000 calls a second (go test -memprofile). record does
// what Record does with what fortio exports: the Counter's own RecordN for
// count, sum, min, max and squares, and the bucket counts (Hdata) by
// fortio's bucket table, copied below from fortio v1.75.3's
// stats.histogramBucketValues; TestRecordMatchesFortio checks the two
// agree bucket for bucket.

// bucketValues are fortio's bucket limits, in units of the divider.
var bucketValues = []int32{
	0, 1, 2, 3, 4, 5, 6,
	7, 8, 9, 10, 11,
	12, 14, 16, 18, 20,
	25, 30, 35, 40, 45, 50,
	60, 70, 80, 90, 100,
	120, 140, 160, 180, 200,
	250, 300, 350, 400, 450, 500,
	600, 700, 800, 900, 1000,
	2000, 3000, 4000, 5000, 7500, 10000,
	20000, 30000, 40000, 50000, 75000, 100000,
}

// smallBucket[k] is the bucket of the scaled value k, for k below 1000.
var smallBucket = func() []uint8 {
	t := make([]uint8, 1000)
	idx := 0
	for k := range t {
		for idx < len(bucketValues) && int32(k) >= bucketValues[idx] {
			idx++
		}
		t[k] = uint8(idx)
	}
	return t
}()

// bucket is the index fortio's Histogram.record puts a value in: bucket 0
// holds values at or below the first limit, the last one those above the
// last limit, and bucket i the interval ]limit i-1, limit i] (the open
// left end by fortio's epsilon).
func bucket(scaled float64) int {
	switch {
	case scaled <= float64(bucketValues[0]):
		return 0
	case scaled > float64(bucketValues[len(bucketValues)-1]):
		return len(bucketValues)
	}
	k := int(scaled)
	if scaled-float64(k) < 1e-12 {
		k--
	}
	if k < len(smallBucket) {
		return int(smallBucket[k])
	}
	for i := int(smallBucket[len(smallBucket)-1]); i < len(bucketValues); i++ { // past 1000: a dozen limits left
		if bucketValues[i] > int32(k) {
			return i
		}
	}
	return len(bucketValues)
}

// record is h.Record(v) without its allocations.
func record(h *stats.Histogram, v float64) { recordN(h, v, 1) }

// recordN records v n times, as n calls of h.Record(v) would (fortio's
// own RecordN squares v*n, not v: its standard deviation would be off).
func recordN(h *stats.Histogram, v float64, n int) {
	for range n {
		h.Counter.RecordN(v, 1)
	}
	h.Hdata[bucket((v-h.Offset)/h.Divider)] += int32(n)
}

// sizeRecorder records response sizes in a fortio histogram, a run of
// equal sizes at a time: a target's replies are mostly the same size, and
// one RecordN per run spares a histogram update per call.
type sizeRecorder struct {
	h    *stats.Histogram
	last int64
	run  int
}

func (r *sizeRecorder) reset(h *stats.Histogram) { *r = sizeRecorder{h: h} }

func (r *sizeRecorder) add(size int64) {
	if r.run > 0 && size != r.last {
		r.flush()
	}
	r.last = size
	r.run++
}

func (r *sizeRecorder) flush() {
	if r.run > 0 {
		recordN(r.h, float64(r.last), r.run)
		r.run = 0
	}
}

// histogram returns the sizes recorded so far.
func (r *sizeRecorder) histogram() *stats.Histogram {
	r.flush()
	return r.h
}
