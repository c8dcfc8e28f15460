//go:build !amd64

package embed

var kernel = kernelGo

// kernelName names the micro-kernel in use (for benchmarks and reports).
const kernelName = "go"
