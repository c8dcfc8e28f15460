// Package calfit fits the score calibration (a compare.Calibration) to
// labelled pair scores and measures it: Fit (Platt scaling), FitAnchored
// (the slope fitted with one operating point pinned, which is how the
// bundled calibration is made), CosineAtFAR (the anchor at a chosen
// false-accept rate) and Rates (false-accept and false-reject rates with
// the product's decision rule, compare.Meets).
//
// It is tooling: only the fitting commands (bench/cmd/calibrate,
// bench/cmd/fitcal) use it, so the library's importers do not pay for
// gonum/optimize.
//
// # Errors
//
//	ErrFitData  unusable scores (lengths differ, a score is not finite, a class is empty)
//
// It is wrapped with detail; test with errors.Is.
package calfit
