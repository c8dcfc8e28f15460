package facematch

import (
	"fmt"
	"math"
)

// Match thresholds of the KYC contract, as fractions of 1 (0.70 means a
// match percentage of 70.00). DefaultThreshold is the operating point the
// bundled calibration is anchored at (compare/CALIBRATION.md);
// CheckThreshold accepts exactly [MinThreshold, MaxThreshold].
const (
	DefaultThreshold = 0.70
	MinThreshold     = 0.70
	MaxThreshold     = 0.95
)

// CheckThreshold reports whether t is a valid match threshold: a finite
// number in [MinThreshold, MaxThreshold] (both ends included). The error
// wraps ErrInvalidThreshold.
func CheckThreshold(t float64) error {
	if math.IsNaN(t) || t < MinThreshold || t > MaxThreshold {
		hint := ""
		if t >= 1 && t <= 100 {
			hint = fmt.Sprintf(" (a fraction, not a percentage: did you mean %g?)", t/100)
		}
		return fmt.Errorf("%w: %g is outside [%.2f, %.2f]%s", ErrInvalidThreshold, t, MinThreshold, MaxThreshold, hint)
	}
	return nil
}

// FormatPercentage formats a match percentage the way the KYC API reports
// it: two decimals and a percent sign, FormatPercentage(95) == "95.00%".
// Percentages are rounded to two decimals before they are decided on
// (compare.Meets), so the text is the figure the verdict was taken on.
func FormatPercentage(p float64) string {
	return fmt.Sprintf("%.2f%%", p)
}
