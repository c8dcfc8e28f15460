// Package compare turns two face embeddings into a verdict: their cosine
// similarity, a calibrated match confidence in percent, and a check against a
// threshold.
//
// # From embeddings to a verdict
//
// Cosine gives the raw similarity of two embeddings (computed with gonum's
// BLAS). A Calibration maps it monotonically to a match confidence in
// [0, 100] with a logistic curve,
//
//	percentage = 100 / (1 + exp(-(A*cos + B)))
//
// and the verdict is percentage/100 >= threshold. The threshold is a
// fraction: DefaultThreshold (0.70) is the KYC operating point and
// CheckThreshold accepts exactly [MinThreshold, MaxThreshold] = [0.70, 0.95].
// FormatPercentage renders the confidence the way the KYC API reports it,
// "95.00%".
//
//	cos := compare.Cosine(e1, e2)
//	p := compare.RoundPercentage(compare.Default.Percentage(cos))
//	match := compare.Meets(p, compare.DefaultThreshold)
//	fmt.Println(compare.FormatPercentage(p), match)
//
// The percentage is rounded to two decimals once, and the verdict is taken
// on that rounded value (Meets), so the figure shown is the figure decided
// on: 69.995 shows as 70.00 % and matches at 0.70. Because the mapping is
// increasing, every threshold on the percentage is a threshold on the
// cosine: Calibration.MatchCosine(0.70) is the lowest cosine the default
// threshold accepts.
//
// # What the thresholds mean
//
// The calibration is chosen so that the default threshold 0.70 sits at the
// cosine where 0.1 % of impostor pairs of LFW are accepted (false-accept
// rate, FAR), a usual KYC operating point; higher thresholds trade more false
// rejects (FRR) for fewer false accepts.
//
// Measured on the 6000 LFW pairs scored through the path Compare ships
// (see Default for the command and compare/CALIBRATION.md for the record;
// in-sample, the constants were fitted on these pairs):
//
//	threshold  cosine ≥  FAR (impostor pairs accepted)  FRR (genuine pairs rejected)
//	0.70       0.4385    0.100 %                         2.33 %
//	0.80       0.4684    0.067 %                         3.13 %
//	0.90       0.5134    0.000 %                         4.23 %
//	0.95       0.5548    0.000 %                         6.47 %
//
// 6 of the 70 rejected genuine pairs at 0.70 involve an image in which the
// detector found no face.
//
// # Refitting
//
// Fit performs plain Platt scaling (logistic regression with gonum/optimize)
// on labelled pair cosines; FitAnchored fits the slope with one point pinned,
// which is how Default is meant to be produced:
//
//	anchor, _ := compare.CosineAtFAR(cos, same, 0.001)
//	cal, _ := compare.FitAnchored(cos, same, anchor, compare.LowestAccepted(0.70))
//
// Rates reports the FAR and FRR of a calibration and threshold on such data,
// for the table above.
//
// # Errors
//
//	ErrInvalidThreshold  threshold outside [0.70, 0.95] or NaN (CheckThreshold)
//	ErrFitData           unusable scores for Fit, FitAnchored, CosineAtFAR, Rates
//
// Both are wrapped with detail; test with errors.Is.
package compare
