package main

import (
	"math"
	"sort"
)

// sample is one image's outcome: its ensemble score (-1 when no face was
// found: never live) and whether it is bona fide.
type sample struct {
	path   string
	attack string // "" for bona fide, else the attack folder
	score  float64
}

func (s sample) live() bool { return s.attack == "" }

// wilson is the Wilson score interval at 95 % for k successes out of n.
func wilson(k, n int) (lo, hi float64) {
	if n == 0 {
		return 0, 1
	}
	const z = 1.959963984540054
	p, fn := float64(k)/float64(n), float64(n)
	den := 1 + z*z/fn
	c := (p + z*z/(2*fn)) / den
	h := z * math.Sqrt(p*(1-p)/fn+z*z/(4*fn*fn)) / den
	return math.Max(0, c-h), math.Min(1, c+h)
}

// rate is an error rate with its interval.
type rate struct {
	Value float64    `json:"value"`
	CI95  [2]float64 `json:"ci95"`
	Errs  int        `json:"errors"`
	N     int        `json:"n"`
}

func newRate(k, n int) rate {
	lo, hi := wilson(k, n)
	v := 0.0
	if n > 0 {
		v = float64(k) / float64(n)
	}
	return rate{Value: v, CI95: [2]float64{lo, hi}, Errs: k, N: n}
}

// errorRates applies a threshold (ISO/IEC 30107-3): APCER is the share of
// attacks accepted as live (score >= t), BPCER the share of bona fide
// images rejected.
func errorRates(s []sample, t float64) (apcer, bpcer rate) {
	var a, an, b, bn int
	for _, x := range s {
		accepted := x.score >= t
		if x.live() {
			bn++
			if !accepted {
				b++
			}
		} else {
			an++
			if accepted {
				a++
			}
		}
	}
	return newRate(a, an), newRate(b, bn)
}

// auc is the area under the ROC curve: the probability that a random bona
// fide image scores above a random attack (ties count half).
func auc(s []sample) float64 {
	var live, att []float64
	for _, x := range s {
		if x.live() {
			live = append(live, x.score)
		} else {
			att = append(att, x.score)
		}
	}
	if len(live) == 0 || len(att) == 0 {
		return math.NaN()
	}
	sort.Float64s(att)
	var sum float64
	for _, l := range live {
		below := sort.SearchFloat64s(att, l)                                      // att < l
		equal := sort.SearchFloat64s(att, math.Nextafter(l, math.Inf(1))) - below // att == l
		sum += float64(below) + float64(equal)/2
	}
	return sum / float64(len(live)) / float64(len(att))
}

// thresholdForBPCER is the rule the default threshold is chosen by: the
// largest threshold that rejects at most target of the bona fide images
// (BPCER <= target), i.e. the highest cut that still keeps that many live
// customers in. It returns NaN without bona fide images.
func thresholdForBPCER(s []sample, target float64) float64 {
	var live []float64
	for _, x := range s {
		if x.live() {
			live = append(live, x.score)
		}
	}
	if len(live) == 0 {
		return math.NaN()
	}
	sort.Float64s(live)
	k := int(math.Floor(target * float64(len(live)))) // images we may reject
	// Threshold live[k] rejects exactly the scores below it: at most k.
	return live[k]
}
