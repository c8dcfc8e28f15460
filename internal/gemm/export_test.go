package gemm

// SetAsm turns the assembly kernels on (where the CPU has them) or off for
// this package's tests, and returns a function that restores the previous
// setting. It must not be called while another goroutine is inside the
// package.
func SetAsm(on bool) (restore func()) {
	old := useAsm
	useAsm = on && hasAsm
	return func() { useAsm = old }
}
