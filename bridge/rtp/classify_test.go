package rtp

import (
	"bytes"
	"testing"
)

func TestClassify(t *testing.T) {
	pad := func(first, second byte, n int) []byte {
		b := bytes.Repeat([]byte{0}, n)
		b[0] = first
		if n > 1 {
			b[1] = second
		}
		return b
	}
	tests := []struct {
		name string
		b    []byte
		want Kind
	}{
		{"empty", nil, KindUnknown},
		{"stun binding request", pad(0x00, 0x01, 20), KindSTUN},
		{"stun first byte 3", pad(3, 0, 28), KindSTUN},
		{"stun too short", pad(0x00, 0x01, 19), KindUnknown},
		{"zrtp 16", pad(16, 0, 100), KindUnknown},
		{"dtls handshake 22", pad(22, 0xfe, 13), KindDTLS},
		{"dtls 20", pad(20, 0, 13), KindDTLS},
		{"dtls 63", pad(63, 0, 100), KindDTLS},
		{"dtls too short", pad(22, 0xfe, 12), KindUnknown},
		{"turn channel 64", pad(64, 0, 100), KindUnknown},
		{"127", pad(127, 0, 100), KindUnknown},
		{"rtp opus", pad(0x80, 111, 12), KindRTP},
		{"rtp with marker", pad(0x90, 0x80|100, 100), KindRTP},
		{"rtp too short", pad(0x80, 111, 11), KindUnknown},
		{"rtcp sr", pad(0x80, 200, 28), KindRTCP},
		{"rtcp rr minimal", pad(0x80, 201, 8), KindRTCP},
		{"rtcp 192", pad(0x80, 192, 8), KindRTCP},
		{"rtcp 223", pad(0x81, 223, 8), KindRTCP},
		{"marker with PT 95 (0xdf) reads as RTCP, RFC 5761 §4", pad(0x80, 0xdf, 12), KindRTCP},
		{"rtp 224", pad(0x80, 224, 12), KindRTP},
		{"rtp 191", pad(0x80, 191, 12), KindRTP},
		{"rtcp too short", pad(0x80, 200, 7), KindUnknown},
		{"first byte 191", pad(191, 100, 12), KindRTP},
		{"first byte 192", pad(192, 100, 12), KindUnknown},
		{"first byte 255", pad(255, 100, 12), KindUnknown},
	}
	for _, tc := range tests {
		if got := Classify(tc.b); got != tc.want {
			t.Errorf("%s: Classify = %v, want %v", tc.name, got, tc.want)
		}
	}
	pkt := pad(0x80, 100, 100)
	assertNoAllocs(t, "Classify", func() { Classify(pkt) })
}

func TestKindString(t *testing.T) {
	got := []string{KindUnknown.String(), KindSTUN.String(), KindDTLS.String(), KindRTP.String(), KindRTCP.String(), Kind(99).String()}
	want := []string{"unknown", "stun", "dtls", "rtp", "rtcp", "unknown"}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("String(%d) = %q, want %q", i, got[i], want[i])
		}
	}
}

func TestDropReasonString(t *testing.T) {
	seen := map[string]bool{}
	for r := DropReason(0); int(r) < NumDropReasons; r++ {
		s := r.String()
		if s == "" || s == "unknown" || seen[s] {
			t.Errorf("DropReason(%d).String() = %q (duplicate or missing)", r, s)
		}
		seen[s] = true
	}
	if DropReason(200).String() != "unknown" {
		t.Error("out-of-range reason not unknown")
	}
}
