#include "textflag.h"

// func spans(s *span, n int)
// Every span has at least one line (Batch.Add never adds an empty one): the line loop
// tests its counter after the first hint.
TEXT ·spans(SB), NOSPLIT|NOFRAME, $0-16
	MOVQ s+0(FP), AX
	MOVQ n+8(FP), CX
	TESTQ CX, CX
	JLE done
next:
	MOVQ 0(AX), DX // first line
	MOVQ 8(AX), BX // lines (≥ 1)
line:
	PREFETCHT0 (DX)
	ADDQ $64, DX
	DECQ BX
	JNZ line
	ADDQ $16, AX
	DECQ CX
	JNZ next
done:
	RET
