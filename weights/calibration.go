package weights

import _ "embed" // go:embed of the score normalisation and calibration

// calibration.json holds package compare's score normalisation (a cohort
// mean embedding and the directions removed after centring) and the
// logistic calibration fitted on the normalised scores. It is written by
// `go run ./bench/cmd/calibrate … --write` from per-image embeddings of
// identity-labelled sets; the file names its data and its command.
//
//go:embed calibration.json
var calibration []byte

// Calibration returns the statistics (JSON) that compare.DefaultNormalizer()
// and compare.DefaultCalibration() are loaded from. Callers must not modify the returned
// bytes.
func Calibration() []byte { return calibration }
