//go:build !unix

package mtcnn

import "time"

func processCPU() (time.Duration, bool) { return 0, false }
