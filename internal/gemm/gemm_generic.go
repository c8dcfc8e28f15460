//go:build purego || !(amd64 || arm64)

package gemm

// No assembly kernels on this platform, or the purego build tag turned them
// off: the pure-Go ones always run.
const (
	hasAsm  = false
	asmName = "go"
)

func kernel(k int, rows *[mr][]float32, b, c []float32, ldc int, bias, slope []float32, mode int) {
	kernelGo(k, rows, b, c, ldc, bias, slope, mode)
}

func rowFMAs(dst, src, w []float32, c, step int) { rowFMAsGo(dst, src, w, c, step) }

func vecBiasSlope(dst, bias, slope []float32, mode int) { vecBiasSlopeGo(dst, bias, slope, mode) }
