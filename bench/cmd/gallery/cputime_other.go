//go:build !linux

package main

import "time"

// threadCPU is not available here; speed then reports wall time only.
func threadCPU() time.Duration { return 0 }
