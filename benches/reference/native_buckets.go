// Reference figures for track-metrics' native histogram tests (storage/native.rs):
// client_golang 1.14's bucket keys, zero bucket, spans and deltas for given observations (nanoseconds,
// observed as float64(ns)/1e9 seconds, as track-metrics' classic buckets decide).
//
// Not built by the workspace or CI. With Debian's golang-go and
// golang-github-prometheus-client-golang-dev (client_golang 1.14):
//
//	GO111MODULE=off GOPATH=/usr/share/gocode go run benches/reference/native_buckets.go
package main

import (
	"fmt"
	"math"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

func main() {
	cases := []struct {
		schema int
		zero   float64
		nanos  []uint64
	}{
		{3, math.Pow(2, -20), []uint64{0, 1, 953, 954, 1000, 999999, 1000000, 1000001, 1090507, 1090508, 5000000, 250000000, 500000000, 500000001, 1000000000, 1000000001, 1090507732, 1090507733, 2000000000, 1e12}},
		{0, math.Pow(2, -20), []uint64{1000, 2000, 500000000, 500000001, 1000000000, 1000000001, 3000000000, 4000000000, 4000000001}},
		{1, math.Pow(2, -16), []uint64{15258, 15259, 100000, 707106781, 707106782, 1414213562, 1414213563}},
		{-2, math.Pow(2, -20), []uint64{1000, 62500000, 62500001, 1000000000, 1000000001, 16000000000, 16000000001}},
		{8, math.Pow(2, -20), []uint64{1000000000, 1000000001, 1002711000, 1002711001, 1002711, 1002712, 1002713, 999999999}},
	}
	for _, c := range cases {
		factor := math.Pow(2, 1.5*math.Pow(2, -float64(c.schema)))
		h := prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:                         "h",
			Help:                         "h",
			NativeHistogramBucketFactor:  factor,
			NativeHistogramZeroThreshold: c.zero,
		})
		for _, ns := range c.nanos {
			h.Observe(float64(ns) / 1e9)
		}
		var m dto.Metric
		h.Write(&m)
		hist := m.GetHistogram()
		fmt.Printf("schema %d zero_threshold %g nanos %v\n", hist.GetSchema(), hist.GetZeroThreshold(), c.nanos)
		fmt.Printf("  count %d zero_count %d spans", hist.GetSampleCount(), hist.GetZeroCount())
		for _, s := range hist.GetPositiveSpan() {
			fmt.Printf(" (%d,%d)", s.GetOffset(), s.GetLength())
		}
		fmt.Printf(" deltas %v\n", hist.GetPositiveDelta())
		// Each value's key alone.
		fmt.Printf("  keys")
		for _, ns := range c.nanos {
			h1 := prometheus.NewHistogram(prometheus.HistogramOpts{Name: "h", Help: "h", NativeHistogramBucketFactor: factor, NativeHistogramZeroThreshold: c.zero})
			h1.Observe(float64(ns) / 1e9)
			var m1 dto.Metric
			h1.Write(&m1)
			sp := m1.GetHistogram().GetPositiveSpan()
			if len(sp) == 0 {
				fmt.Printf(" %d:zero", ns)
			} else {
				fmt.Printf(" %d:%d", ns, sp[0].GetOffset())
			}
		}
		fmt.Println()
	}
}
