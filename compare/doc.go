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
//	p := compare.Default.Percentage(cos)
//	match := p/100 >= compare.DefaultThreshold
//	fmt.Println(compare.FormatPercentage(p), match)
//
// Because the mapping is increasing, every threshold on the percentage is a
// threshold on the cosine: Calibration.Cosine(70) is the cosine the default
// threshold needs.
//
// # What the thresholds mean
//
// The calibration is chosen so that the default threshold 0.70 sits at the
// cosine where 0.1 % of impostor pairs of LFW are accepted (false-accept
// rate, FAR), a usual KYC operating point; higher thresholds trade more false
// rejects (FRR) for fewer false accepts.
//
// Measured on the 6000 LFW pairs, scored end to end by this module's
// pipeline (see Default for the command and compare/CALIBRATION.md for the
// record):
//
//	threshold  cosine ≥  FAR (impostor pairs accepted)  FRR (genuine pairs rejected)
//	0.70       0.4284    0.100 %                         1.90 %
//	0.80       0.4550    0.067 %                         2.53 %
//	0.90       0.4951    0.000 %                         3.70 %
//	0.95       0.5320    0.000 %                         4.90 %
//
// 6 of the 57 rejected genuine pairs at 0.70 involve an image in which the
// detector found no face; with reference landmarks the FRR at 0.70 is
// 1.93 % for the same FAR.
//
// # Refitting
//
// Fit performs plain Platt scaling (logistic regression with gonum/optimize)
// on labelled pair cosines; FitAnchored fits the slope with one point pinned,
// which is how Default is meant to be produced:
//
//	anchor, _ := compare.CosineAtFAR(cos, same, 0.001)
//	cal, _ := compare.FitAnchored(cos, same, anchor, 70)
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
