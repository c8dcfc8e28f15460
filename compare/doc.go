// Package compare turns two face embeddings into a verdict: their
// similarity, a calibrated match confidence in percent, and a check against a
// threshold.
//
// # From embeddings to a verdict
//
// Similarity is the score the facematch package uses: the cosine of the two
// embeddings after DefaultNormalizer, which subtracts a cohort mean
// embedding, removes the direction along which faces of one demographic
// vary together, and re-normalises (see Normalizer). Cosine is the raw
// cosine (computed with gonum's BLAS). A Calibration maps the score
// monotonically to a match confidence in [0, 100] with a logistic curve,
//
//	percentage = 100 / (1 + exp(-(A*score + B)))
//
// and the verdict is percentage/100 >= threshold. The threshold is a
// fraction: DefaultThreshold (0.70) is the KYC operating point and
// CheckThreshold accepts exactly [MinThreshold, MaxThreshold] = [0.70, 0.95].
// FormatPercentage renders the confidence the way the KYC API reports it,
// "95.00%".
//
//	s := compare.Similarity(e1, e2)
//	p := compare.RoundPercentage(compare.Default.Percentage(s))
//	match := compare.Meets(p, compare.DefaultThreshold)
//	fmt.Println(compare.FormatPercentage(p), match)
//
// The percentage is rounded to two decimals once, and the verdict is taken
// on that rounded value (Meets), so the figure shown is the figure decided
// on: 69.995 shows as 70.00 % and matches at 0.70. Because the mapping is
// increasing, every threshold on the percentage is a threshold on the
// score: Calibration.MatchCosine(0.70) is the lowest score the default
// threshold accepts.
//
// # What the thresholds mean
//
// The normaliser and the calibration (DefaultModel, bundled as
// weights/calibration.json) are fitted together on pooled, identity-labelled
// pairs of three sets: LFW (mostly Western faces), ORL (grey, 92x112) and
// kpop13 (East-Asian, tight crops). The default threshold 0.70 sits at the
// lowest score where every set meets its false-accept goal — LFW at most
// 0.1 % of impostor pairs, the others at most 1 % — provided LFW then still
// accepts at least 97 % of its genuine pairs; compare/CALIBRATION.md has the
// false-accept (FAR) and false-reject (FRR) rates of every set at every
// threshold, measured with identities held out, and how far the meaning
// still varies across faces.
//
// # Refitting
//
// Both parts are rebuilt by one command, bench/cmd/calibrate, from
// per-image embedding files that bench/cmd/lfw --embeddings writes. Fit
// performs plain Platt scaling (logistic regression with gonum/optimize) on
// labelled pair scores; FitAnchored fits the slope with one point pinned,
// which is how Default is produced:
//
//	anchor, _ := compare.CosineAtFAR(score, same, 0.001)
//	cal, _ := compare.FitAnchored(score, same, anchor, compare.LowestAccepted(0.70))
//
// Rates reports the FAR and FRR of a calibration and threshold on such data.
//
// # Errors
//
//	ErrInvalidThreshold  threshold outside [0.70, 0.95] or NaN (CheckThreshold)
//	ErrFitData           unusable scores for Fit, FitAnchored, CosineAtFAR, Rates
//	ErrModelFile         unusable normalisation/calibration file (LoadModel)
//
// All are wrapped with detail; test with errors.Is.
package compare
