package weights

import _ "embed" // go:embed of the pigo cascades

// The pigo cascades are bundled byte for byte as shipped in
// github.com/esimov/pigo v1.4.6 (directory cascade/); see NOTICE-pigo.md for
// their licences and provenance. They are read only through the functions
// below, which return the embedded bytes: callers must not modify them.

var (
	//go:embed pigo/facefinder
	faceFinder []byte
	//go:embed pigo/puploc
	pupilLocator []byte
	//go:embed pigo/lps/lp93
	lp93 []byte
	//go:embed pigo/lps/lp84
	lp84 []byte
)

// FaceFinder returns the pico/pigo frontal face detection cascade
// ("facefinder", 239632 bytes): a boosted cascade of depth-6 binary pixel
// comparison trees over a square window.
func FaceFinder() []byte { return faceFinder }

// PupilLocator returns pigo's pupil localisation cascade ("puploc", 1228416
// bytes): a regression-tree cascade that moves a window onto the pupil centre.
func PupilLocator() []byte { return pupilLocator }

// LandmarkCascades returns pigo's facial landmark point cascades that the
// detector uses, keyed by their pigo file names: "lp93" (nose tip) and "lp84"
// (left mouth corner as seen in the image; evaluated mirrored it gives the
// right one). The map is new on every call; the byte slices are shared.
func LandmarkCascades() map[string][]byte {
	return map[string][]byte{"lp93": lp93, "lp84": lp84}
}

// NoseTip returns the "lp93" landmark cascade (nose tip).
func NoseTip() []byte { return lp93 }

// MouthCorner returns the "lp84" landmark cascade (mouth corner; mirrored
// evaluation gives the other corner).
func MouthCorner() []byte { return lp84 }
