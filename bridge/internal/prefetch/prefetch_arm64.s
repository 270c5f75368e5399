#include "textflag.h"

// func spans(s *span, n int)
// Every span has at least one line (Batch.Add never adds an empty one): the line loop
// tests its counter after the first hint.
TEXT ·spans(SB), NOSPLIT|NOFRAME, $0-16
	MOVD s+0(FP), R0
	MOVD n+8(FP), R1
	CMP $0, R1
	BLE done
next:
	MOVD 0(R0), R2 // first line
	MOVD 8(R0), R3 // lines (≥ 1)
line:
	PRFM (R2), PLDL1KEEP
	ADD $64, R2
	SUB $1, R3
	CBNZ R3, line
	ADD $16, R0
	SUB $1, R1
	CBNZ R1, next
done:
	RET
