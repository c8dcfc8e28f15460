// Package eval holds the face-verification metrics behind the LFW accuracy
// benchmark (bench/cmd/lfw): pair-list parsing, k-fold accuracy, ROC curves,
// AUC, TAR at a fixed FAR, and the FAR/FRR table of a calibrated threshold.
//
// # Pairs
//
// A verification benchmark is a list of labelled image pairs. Two formats are
// read by [ReadPairs] (which tells them apart from the first line):
//
//   - LFW's pairs.txt ([ParseLFW]): a first line "10 300" (folds, pairs per
//     class per fold), then per fold 300 same-person lines "Name n1 n2" followed
//     by 300 different-person lines "Name1 n1 Name2 n2". Image n of Name is
//     Name/Name_%04d.jpg. Folds are numbered from 1.
//   - A tab-separated list ([ParseTSV]):
//     path1<TAB>path2<TAB>same(0|1)[<TAB>fold], one pair per line. Blank lines
//     and lines starting with '#' are skipped. Without a fold column, pair i
//     (counted from 0) goes to fold i%10+1.
//
// # Scores and metrics
//
// Every metric takes parallel slices: a similarity score per pair (larger =
// more alike, e.g. a cosine), the label (true = same person) and, for k-fold
// accuracy, the fold. A pair is declared a match when score >= threshold.
//
//   - [KFold]: for each fold the threshold that maximises accuracy on the other
//     folds is chosen and the accuracy on the held-out fold is measured; the
//     result has the mean and the population standard deviation over folds
//     (the LFW protocol's "mean ± std"). With a single fold the threshold is
//     chosen on that fold itself (in-sample; say so when reporting).
//   - [ROC] and [AUC]: the receiver operating characteristic over every
//     distinct score and its area (ties count one half, Mann-Whitney).
//   - [TARAtFAR]: the highest true-accept rate reachable with a false-accept
//     rate no larger than the target, and the threshold that reaches it. This
//     is the achievable operating point, not an interpolation.
//   - [Calibration]: for thresholds on a calibrated percentage (a monotone
//     function of the score), the false-accept and false-reject rates, with
//     the rule percentage/100 >= threshold used by package compare.
//
// Pairs whose images could not be processed (no face found) are not dropped by
// the caller: they keep a score (bench/cmd/lfw uses -1, the lowest cosine) so
// they count in every metric.
package eval
