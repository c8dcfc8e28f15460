//go:build !purego

#include "textflag.h"

// func kernel4x16(k int, a0, a1, a2, a3, b, c *float32, ldc int)
//
// c[r][0:16] = Σ_kk a_r[kk]·b[kk*16 : kk*16+16] with 16 NEON accumulators
// (V0–V15), the 16 packed weights in V16–V19 and the broadcast A values in
// V20–V23. k must be ≥ 1.
TEXT ·kernel4x16(SB), NOSPLIT, $0-64
	MOVD k+0(FP), R0
	MOVD a0+8(FP), R1
	MOVD a1+16(FP), R2
	MOVD a2+24(FP), R3
	MOVD a3+32(FP), R4
	MOVD b+40(FP), R5
	MOVD c+48(FP), R6
	MOVD ldc+56(FP), R7
	LSL  $2, R7, R7
	VEOR V0.B16, V0.B16, V0.B16
	VEOR V1.B16, V1.B16, V1.B16
	VEOR V2.B16, V2.B16, V2.B16
	VEOR V3.B16, V3.B16, V3.B16
	VEOR V4.B16, V4.B16, V4.B16
	VEOR V5.B16, V5.B16, V5.B16
	VEOR V6.B16, V6.B16, V6.B16
	VEOR V7.B16, V7.B16, V7.B16
	VEOR V8.B16, V8.B16, V8.B16
	VEOR V9.B16, V9.B16, V9.B16
	VEOR V10.B16, V10.B16, V10.B16
	VEOR V11.B16, V11.B16, V11.B16
	VEOR V12.B16, V12.B16, V12.B16
	VEOR V13.B16, V13.B16, V13.B16
	VEOR V14.B16, V14.B16, V14.B16
	VEOR V15.B16, V15.B16, V15.B16
loop:
	VLD1.P 64(R5), [V16.S4, V17.S4, V18.S4, V19.S4]
	VLD1R.P 4(R1), [V20.S4]
	VLD1R.P 4(R2), [V21.S4]
	VLD1R.P 4(R3), [V22.S4]
	VLD1R.P 4(R4), [V23.S4]
	VFMLA V16.S4, V20.S4, V0.S4
	VFMLA V17.S4, V20.S4, V1.S4
	VFMLA V18.S4, V20.S4, V2.S4
	VFMLA V19.S4, V20.S4, V3.S4
	VFMLA V16.S4, V21.S4, V4.S4
	VFMLA V17.S4, V21.S4, V5.S4
	VFMLA V18.S4, V21.S4, V6.S4
	VFMLA V19.S4, V21.S4, V7.S4
	VFMLA V16.S4, V22.S4, V8.S4
	VFMLA V17.S4, V22.S4, V9.S4
	VFMLA V18.S4, V22.S4, V10.S4
	VFMLA V19.S4, V22.S4, V11.S4
	VFMLA V16.S4, V23.S4, V12.S4
	VFMLA V17.S4, V23.S4, V13.S4
	VFMLA V18.S4, V23.S4, V14.S4
	VFMLA V19.S4, V23.S4, V15.S4
	SUBS $1, R0, R0
	BNE  loop
	VST1 [V0.S4, V1.S4, V2.S4, V3.S4], (R6)
	ADD  R7, R6, R6
	VST1 [V4.S4, V5.S4, V6.S4, V7.S4], (R6)
	ADD  R7, R6, R6
	VST1 [V8.S4, V9.S4, V10.S4, V11.S4], (R6)
	ADD  R7, R6, R6
	VST1 [V12.S4, V13.S4, V14.S4, V15.S4], (R6)
	RET

// func rowFMA(dst, src, w *float32, c, npix, step int)
// For p < npix and j < c: dst[p*c+j] += src[p*step+j]·w[j].
// c is a positive multiple of 4.
TEXT ·rowFMA(SB), NOSPLIT, $0-48
	MOVD dst+0(FP), R0
	MOVD src+8(FP), R1
	MOVD w+16(FP), R2
	MOVD c+24(FP), R3
	MOVD npix+32(FP), R4
	MOVD step+40(FP), R5
	LSL  $2, R5, R5
	LSR  $2, R3, R10
	CBZ  R4, rowdone
rowpix:
	MOVD R1, R7
	MOVD R2, R8
	MOVD R10, R11
rowch:
	VLD1.P 16(R7), [V1.S4]
	VLD1.P 16(R8), [V2.S4]
	VLD1   (R0), [V0.S4]
	VFMLA  V1.S4, V2.S4, V0.S4
	VST1.P [V0.S4], 16(R0)
	SUBS   $1, R11, R11
	BNE    rowch
	ADD    R5, R1, R1
	SUBS   $1, R4, R4
	BNE    rowpix
rowdone:
	RET
