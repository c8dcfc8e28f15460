// Package compare turns two face embeddings into a score and a calibrated
// match confidence, and decides a threshold on it.
//
// # From embeddings to a verdict
//
// Similarity is the score the facematch package uses: the cosine of the two
// embeddings after the bundled Normalizer (DefaultNormalizer), which
// subtracts a cohort mean embedding, removes the directions along which
// faces of one demographic vary together, and re-normalises. Cosine is the
// raw cosine (computed with gonum's BLAS). A Calibration maps the score
// monotonically to a match confidence in [0, 100] with a logistic curve,
//
//	percentage = 100 / (1 + exp(-(A*score + B)))
//
// and a threshold t (a fraction: 0.70 means 70.00 %) is met when the
// percentage, rounded to two decimals, reaches 100*t:
//
//	s := compare.Similarity(e1, e2)
//	p := compare.RoundPercentage(compare.DefaultCalibration().Percentage(s))
//	match := compare.Meets(p, 0.70)
//
// The percentage is rounded once and the verdict is taken on that rounded
// value (Meets), so the figure shown is the figure decided on: 69.995 shows
// as 70.00 and meets 0.70. Because the mapping is increasing, every
// threshold on the percentage is a threshold on the score:
// Calibration.MatchCosine(t) is the lowest score t accepts.
//
// Which thresholds a product accepts, and how it prints a percentage, are
// the product's contract, not this package's: the facematch package
// defines the KYC range [0.70, 0.95] (facematch.CheckThreshold) and the
// "95.00%" text (facematch.FormatPercentage).
//
// # The bundled model
//
// DefaultModel is weights/calibration.json: the normaliser and the
// calibration, fitted together on pooled, identity-labelled pairs of
// several face sets, and a record of how (Model.Source). The accessors
// (DefaultModel, DefaultNormalizer, DefaultCalibration) return copies; the
// package's own model never changes after start-up, so scores are the same
// bit for bit in every run. compare/CALIBRATION.md has the dated record: the
// command that rebuilds the file (bench/cmd/calibrate), and the
// false-accept and false-reject rates of every set at every threshold.
// The fitting code lives with that tool (bench/internal/calfit), so
// importers of this package do not depend on an optimiser.
//
// # Errors
//
//	ErrModelFile  unusable normalisation/calibration file (LoadModel)
//
// It is wrapped with detail; test with errors.Is.
package compare
