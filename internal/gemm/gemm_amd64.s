//go:build !purego

#include "textflag.h"

// func kernel4x16(k int, a0, a1, a2, a3, b, c *float32, ldc int, bias, slope *float32, mode int)
//
// c[r][0:16] = epilogue(Σ_kk a_r[kk]·b[kk*16 : kk*16+16] + bias[0:16])
// mode 0: linear; mode 1: PReLU, y = max(x,0) + slope·min(x,0).
TEXT ·kernel4x16(SB), NOSPLIT, $0-88
	MOVQ k+0(FP), CX
	MOVQ a0+8(FP), R8
	MOVQ a1+16(FP), R9
	MOVQ a2+24(FP), R10
	MOVQ a3+32(FP), R11
	MOVQ b+40(FP), SI
	MOVQ c+48(FP), DI
	MOVQ ldc+56(FP), DX
	SHLQ $2, DX

	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7

	XORQ BX, BX
	MOVQ CX, R12
	SHRQ $1, R12
	JEQ  tail

loop2:
	VMOVUPS      (SI), Y8
	VMOVUPS      32(SI), Y9
	VBROADCASTSS (R8)(BX*1), Y10
	VFMADD231PS  Y8, Y10, Y0
	VFMADD231PS  Y9, Y10, Y1
	VBROADCASTSS (R9)(BX*1), Y11
	VFMADD231PS  Y8, Y11, Y2
	VFMADD231PS  Y9, Y11, Y3
	VBROADCASTSS (R10)(BX*1), Y12
	VFMADD231PS  Y8, Y12, Y4
	VFMADD231PS  Y9, Y12, Y5
	VBROADCASTSS (R11)(BX*1), Y13
	VFMADD231PS  Y8, Y13, Y6
	VFMADD231PS  Y9, Y13, Y7
	VMOVUPS      64(SI), Y8
	VMOVUPS      96(SI), Y9
	VBROADCASTSS 4(R8)(BX*1), Y10
	VFMADD231PS  Y8, Y10, Y0
	VFMADD231PS  Y9, Y10, Y1
	VBROADCASTSS 4(R9)(BX*1), Y11
	VFMADD231PS  Y8, Y11, Y2
	VFMADD231PS  Y9, Y11, Y3
	VBROADCASTSS 4(R10)(BX*1), Y12
	VFMADD231PS  Y8, Y12, Y4
	VFMADD231PS  Y9, Y12, Y5
	VBROADCASTSS 4(R11)(BX*1), Y13
	VFMADD231PS  Y8, Y13, Y6
	VFMADD231PS  Y9, Y13, Y7
	ADDQ $128, SI
	ADDQ $8, BX
	DECQ R12
	JNZ  loop2

tail:
	TESTQ $1, CX
	JEQ   accdone
	VMOVUPS      (SI), Y8
	VMOVUPS      32(SI), Y9
	VBROADCASTSS (R8)(BX*1), Y10
	VFMADD231PS  Y8, Y10, Y0
	VFMADD231PS  Y9, Y10, Y1
	VBROADCASTSS (R9)(BX*1), Y11
	VFMADD231PS  Y8, Y11, Y2
	VFMADD231PS  Y9, Y11, Y3
	VBROADCASTSS (R10)(BX*1), Y12
	VFMADD231PS  Y8, Y12, Y4
	VFMADD231PS  Y9, Y12, Y5
	VBROADCASTSS (R11)(BX*1), Y13
	VFMADD231PS  Y8, Y13, Y6
	VFMADD231PS  Y9, Y13, Y7

accdone:
	// bias
	MOVQ    bias+64(FP), AX
	VMOVUPS (AX), Y8
	VMOVUPS 32(AX), Y9
	VADDPS  Y8, Y0, Y0
	VADDPS  Y9, Y1, Y1
	VADDPS  Y8, Y2, Y2
	VADDPS  Y9, Y3, Y3
	VADDPS  Y8, Y4, Y4
	VADDPS  Y9, Y5, Y5
	VADDPS  Y8, Y6, Y6
	VADDPS  Y9, Y7, Y7

	MOVQ mode+80(FP), AX
	TESTQ AX, AX
	JE   store

	// PReLU: y = max(x,0) + slope·min(x,0)
	MOVQ    slope+72(FP), AX
	VMOVUPS (AX), Y8
	VMOVUPS 32(AX), Y9
	VXORPS  Y15, Y15, Y15
	VMINPS  Y15, Y0, Y10
	VMAXPS  Y15, Y0, Y0
	VFMADD231PS Y8, Y10, Y0
	VMINPS  Y15, Y1, Y10
	VMAXPS  Y15, Y1, Y1
	VFMADD231PS Y9, Y10, Y1
	VMINPS  Y15, Y2, Y10
	VMAXPS  Y15, Y2, Y2
	VFMADD231PS Y8, Y10, Y2
	VMINPS  Y15, Y3, Y10
	VMAXPS  Y15, Y3, Y3
	VFMADD231PS Y9, Y10, Y3
	VMINPS  Y15, Y4, Y10
	VMAXPS  Y15, Y4, Y4
	VFMADD231PS Y8, Y10, Y4
	VMINPS  Y15, Y5, Y10
	VMAXPS  Y15, Y5, Y5
	VFMADD231PS Y9, Y10, Y5
	VMINPS  Y15, Y6, Y10
	VMAXPS  Y15, Y6, Y6
	VFMADD231PS Y8, Y10, Y6
	VMINPS  Y15, Y7, Y10
	VMAXPS  Y15, Y7, Y7
	VFMADD231PS Y9, Y10, Y7

store:
	VMOVUPS Y0, (DI)
	VMOVUPS Y1, 32(DI)
	ADDQ    DX, DI
	VMOVUPS Y2, (DI)
	VMOVUPS Y3, 32(DI)
	ADDQ    DX, DI
	VMOVUPS Y4, (DI)
	VMOVUPS Y5, 32(DI)
	ADDQ    DX, DI
	VMOVUPS Y6, (DI)
	VMOVUPS Y7, 32(DI)
	VZEROUPPER
	RET

// func rowFMA(dst, src, w *float32, c, npix, step int)
// For p < npix and j < c: dst[p*c+j] += src[p*step+j]·w[j].
// c is a positive multiple of 8.
TEXT ·rowFMA(SB), NOSPLIT, $0-48
	MOVQ  dst+0(FP), DI
	MOVQ  src+8(FP), SI
	MOVQ  w+16(FP), DX
	MOVQ  c+24(FP), R8
	MOVQ  npix+32(FP), R9
	MOVQ  step+40(FP), R10
	SHLQ  $2, R8
	SHLQ  $2, R10
	TESTQ R9, R9
	JEQ   rowdone
rowpix:
	XORQ BX, BX
rowch:
	VMOVUPS     (SI)(BX*1), Y1
	VMOVUPS     (DI)(BX*1), Y0
	VFMADD231PS (DX)(BX*1), Y1, Y0
	VMOVUPS     Y0, (DI)(BX*1)
	ADDQ        $32, BX
	CMPQ        BX, R8
	JLT         rowch
	ADDQ        R8, DI
	ADDQ        R10, SI
	DECQ        R9
	JNZ         rowpix
rowdone:
	VZEROUPPER
	RET

// func biasSlopeVec(dst, bias, slope *float32, n, mode int)
// dst[i] += bias[i]; mode 1 then applies max(x,0) + slope[i]·min(x,0).
// n is a multiple of 8.
TEXT ·biasSlopeVec(SB), NOSPLIT, $0-40
	MOVQ dst+0(FP), DI
	MOVQ bias+8(FP), SI
	MOVQ slope+16(FP), DX
	MOVQ n+24(FP), CX
	MOVQ mode+32(FP), AX
	SHRQ $3, CX
	JE   bsdone
	VXORPS Y15, Y15, Y15
	TESTQ AX, AX
	JE   bsloop0
bsloop1:
	VMOVUPS     (DI), Y0
	VADDPS      (SI), Y0, Y0
	VMINPS      Y15, Y0, Y1
	VMAXPS      Y15, Y0, Y0
	VFMADD231PS (DX), Y1, Y0
	VMOVUPS     Y0, (DI)
	ADDQ        $32, DI
	ADDQ        $32, SI
	ADDQ        $32, DX
	DECQ        CX
	JNZ         bsloop1
	JMP         bsdone
bsloop0:
	VMOVUPS     (DI), Y0
	VADDPS      (SI), Y0, Y0
	VMOVUPS     Y0, (DI)
	ADDQ        $32, DI
	ADDQ        $32, SI
	DECQ        CX
	JNZ         bsloop0
bsdone:
	VZEROUPPER
	RET
