package main

import (
	"math"
	"sort"
	"strconv"

	"gonum.org/v1/gonum/mat"
)

// image is one embedded face of a labelled set.
type image struct {
	set, id string
	vec     []float64 // L2-normalised embedding; nil when no face was found
}

// prepared is an embedding mapped into a variant's space, with its cohort
// statistics when the variant normalises scores against a cohort.
type prepared struct {
	x        []float64
	m, s     float64
	asNormed bool
}

// scorer maps a raw embedding into the variant's space.
type scorer func(v []float64) prepared

// score is the similarity of two prepared embeddings; higher means more alike.
func score(a, b prepared) float64 {
	s := dot(a.x, b.x)
	if !a.asNormed {
		return s
	}
	return 0.5 * ((s-a.m)/a.s + (s-b.m)/b.s)
}

func plain(x []float64) prepared { return prepared{x: x} }

// variant is a score normalisation fitted on training images.
type variant struct {
	name string
	fit  func(train []image) scorer
}

func dot(a, b []float64) float64 {
	s := 0.0
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

func unit(v []float64) []float64 {
	n := math.Sqrt(dot(v, v))
	out := make([]float64, len(v))
	if n == 0 {
		return out
	}
	for i := range v {
		out[i] = v[i] / n
	}
	return out
}

// bySet groups the training images that have a face by set name.
func bySet(train []image) map[string][][]float64 {
	m := map[string][][]float64{}
	for _, im := range train {
		if im.vec != nil {
			m[im.set] = append(m[im.set], im.vec)
		}
	}
	return m
}

// balancedMean is the mean of the per-set means: every set (every
// demographic the cohort covers) weighs the same, however many images it has.
func balancedMean(train []image) []float64 {
	sets := bySet(train)
	var mu []float64
	for _, name := range sortedKeys(sets) {
		vs := sets[name]
		m := make([]float64, len(vs[0]))
		for _, v := range vs {
			for i := range v {
				m[i] += v[i] / float64(len(vs))
			}
		}
		if mu == nil {
			mu = make([]float64, len(m))
		}
		for i := range m {
			mu[i] += m[i] / float64(len(sets))
		}
	}
	return mu
}

// imageMean is the plain mean of all training images (the largest set
// dominates).
func imageMean(train []image) []float64 {
	var mu []float64
	n := 0
	for _, im := range train {
		if im.vec == nil {
			continue
		}
		if mu == nil {
			mu = make([]float64, len(im.vec))
		}
		for i := range im.vec {
			mu[i] += im.vec[i]
		}
		n++
	}
	for i := range mu {
		mu[i] /= float64(n)
	}
	return mu
}

func sub(a, b []float64) []float64 {
	out := make([]float64, len(a))
	for i := range a {
		out[i] = a[i] - b[i]
	}
	return out
}

// balancedCov is the covariance of the images around mu, each set weighing
// the same.
func balancedCov(train []image, mu []float64) *mat.SymDense {
	sets := bySet(train)
	d := len(mu)
	c := mat.NewSymDense(d, nil)
	for _, name := range sortedKeys(sets) {
		vs := sets[name]
		w := 1 / float64(len(vs)*len(sets))
		for _, v := range vs {
			x := sub(v, mu)
			c.SymRankOne(c, w, mat.NewVecDense(d, x))
		}
	}
	return c
}

// topDirections returns the k leading eigenvectors of c (unit rows).
func topDirections(c *mat.SymDense, k int) [][]float64 {
	var es mat.EigenSym
	if !es.Factorize(c, true) {
		panic("calibrate: eigendecomposition failed")
	}
	vals := es.Values(nil)
	var vecs mat.Dense
	es.VectorsTo(&vecs)
	idx := make([]int, len(vals))
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(a, b int) bool { return vals[idx[a]] > vals[idx[b]] })
	out := make([][]float64, k)
	for j := 0; j < k; j++ {
		out[j] = mat.Col(nil, idx[j], &vecs)
	}
	return out
}

// project subtracts mu and removes the directions dirs, then re-normalises.
func project(v, mu []float64, dirs [][]float64) []float64 {
	x := sub(v, mu)
	for _, u := range dirs {
		p := dot(x, u)
		for i := range x {
			x[i] -= p * u[i]
		}
	}
	return unit(x)
}

// withinClassWhitening returns W = (shrunk within-identity covariance)^(-1/2).
func withinClassWhitening(train []image, lambda float64) *mat.Dense {
	ids := map[string][][]float64{}
	for _, im := range train {
		if im.vec != nil {
			ids[im.set+"/"+im.id] = append(ids[im.set+"/"+im.id], im.vec)
		}
	}
	var d int
	for _, vs := range ids {
		d = len(vs[0])
		break
	}
	sw := mat.NewSymDense(d, nil)
	n := 0
	for _, key := range sortedKeys(ids) {
		vs := ids[key]
		if len(vs) < 2 {
			continue
		}
		m := make([]float64, d)
		for _, v := range vs {
			for i := range v {
				m[i] += v[i] / float64(len(vs))
			}
		}
		for _, v := range vs {
			sw.SymRankOne(sw, 1, mat.NewVecDense(d, sub(v, m)))
			n++
		}
	}
	sw.ScaleSym(1/float64(n), sw)
	tr := 0.0
	for i := 0; i < d; i++ {
		tr += sw.At(i, i)
	}
	for i := 0; i < d; i++ {
		for j := i; j < d; j++ {
			v := (1 - lambda) * sw.At(i, j)
			if i == j {
				v += lambda * tr / float64(d)
			}
			sw.SetSym(i, j, v)
		}
	}
	var es mat.EigenSym
	if !es.Factorize(sw, true) {
		panic("calibrate: eigendecomposition failed")
	}
	vals := es.Values(nil)
	var q mat.Dense
	es.VectorsTo(&q)
	dm := mat.NewDiagDense(d, nil)
	for i, v := range vals {
		dm.SetDiag(i, 1/math.Sqrt(v))
	}
	var w mat.Dense
	w.Product(&q, dm, q.T())
	return &w
}

func variants() []variant {
	vs := []variant{
		{"raw cosine (shipped)", func([]image) scorer { return func(v []float64) prepared { return plain(unit(v)) } }},
		{"centre: image mean", func(t []image) scorer {
			mu := imageMean(t)
			return func(v []float64) prepared { return plain(project(v, mu, nil)) }
		}},
		{"centre: set-balanced mean", func(t []image) scorer {
			mu := balancedMean(t)
			return func(v []float64) prepared { return plain(project(v, mu, nil)) }
		}},
	}
	for _, k := range []int{1, 2, 4, 8} {
		vs = append(vs, variant{name: "centre + drop top " + strconv.Itoa(k) + " PCs", fit: func(t []image) scorer {
			mu := balancedMean(t)
			dirs := topDirections(balancedCov(t, mu), k)
			return func(v []float64) prepared { return plain(project(v, mu, dirs)) }
		}})
	}
	for _, a := range []float64{0.5, 0.75, 0.9} {
		vs = append(vs, variant{name: "centre + shrink top PC to " + strconv.FormatFloat(1-a, 'g', -1, 64), fit: func(t []image) scorer {
			mu := balancedMean(t)
			dirs := topDirections(balancedCov(t, mu), 1)
			return func(v []float64) prepared {
				x := sub(v, mu)
				p := dot(x, dirs[0])
				for i := range x {
					x[i] -= a * p * dirs[0][i]
				}
				return plain(unit(x))
			}
		}})
	}
	vs = append(vs, variant{name: "centre + within-class whitening", fit: func(t []image) scorer {
		mu := balancedMean(t)
		w := withinClassWhitening(t, 0.5)
		tf := func(v []float64) []float64 {
			x := mat.NewVecDense(len(v), sub(v, mu))
			var y mat.VecDense
			y.MulVec(w, x)
			return unit(y.RawVector().Data)
		}
		return func(v []float64) prepared { return plain(tf(v)) }
	}})
	vs = append(vs, variant{name: "centre + AS-norm (top 100 of cohort)", fit: func(t []image) scorer {
		mu := balancedMean(t)
		var cohort [][]float64
		sets := bySet(t)
		for _, name := range sortedKeys(sets) {
			vs := sets[name]
			// At most 500 images per set, evenly spaced: every set weighs
			// about the same and the cost stays bounded.
			step := max(1, len(vs)/500)
			for i := 0; i < len(vs); i += step {
				cohort = append(cohort, project(vs[i], mu, nil))
			}
		}
		stat := func(x []float64) (m, s float64) {
			sc := make([]float64, len(cohort))
			for i, c := range cohort {
				sc[i] = dot(x, c)
			}
			sort.Sort(sort.Reverse(sort.Float64Slice(sc)))
			top := sc[:min(100, len(sc))]
			for _, v := range top {
				m += v
			}
			m /= float64(len(top))
			for _, v := range top {
				s += (v - m) * (v - m)
			}
			return m, math.Sqrt(s / float64(len(top)))
		}
		return func(v []float64) prepared {
			x := project(v, mu, nil)
			m, s := stat(x)
			return prepared{x: x, m: m, s: s, asNormed: true}
		}
	}})
	return vs
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
