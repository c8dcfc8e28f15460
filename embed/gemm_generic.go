//go:build !amd64 && !arm64

package embed

const kernelName = "go"

func kernel(k int, rows *[mr][]float32, b, c []float32, ldc int, bias, slope []float32, mode int) {
	kernelGo(k, rows, b, c, ldc, bias, slope, mode)
}

func vecFMA(dst, x, w []float32) { vecFMAGo(dst, x, w) }

func vecBiasSlope(dst, bias, slope []float32, mode int) { vecBiasSlopeGo(dst, bias, slope, mode) }

var useAsm = false // no assembly kernels on this platform
