package srtp

import (
	"testing"

	"github.com/pion/rtp"
)

// pionHeaderLen is the reference: pion/rtp's parse, which pion's EncryptRTP uses.
func pionHeaderLen(pkt []byte) (int, bool) {
	var h rtp.Header
	n, err := h.Unmarshal(pkt)
	return n, err == nil
}

func TestRTPHeaderLen(t *testing.T) {
	tests := []struct {
		name string
		pkt  []byte
		want int // 0: error
	}{
		{"fixed header", buildRTP(rtpSpec{payload: 3}), 12},
		{"15 CSRCs", buildRTP(rtpSpec{csrcs: 15}), 72},
		{"one-byte extension", buildRTP(rtpSpec{ext: extOneByte, csrcs: 1}), 12 + 4 + 12},
		{"two-byte extension", buildRTP(rtpSpec{ext: extTwoByte, payload: 1}), 12 + 12},
		{"opaque extension", buildRTP(rtpSpec{ext: extOpaque}), 12 + 8},
		{"empty extension", withExt(0xbede), 16},
		{"one-byte ID 15 stops parsing", withExt(0xbede, 0xff, 0, 0, 0), 20},
		{"one-byte ID 0 with a length stops parsing", withExt(0xbede, 0x0f, 0, 0, 0), 20},
		{"one-byte element ends exactly", withExt(0xbede, 0x12, 1, 2, 3), 20},
		{"one-byte element overruns", withExt(0xbede, 0, 0, 0, 0x10), 0},
		{"two-byte element ends exactly", withExt(0x1000, 5, 2, 1, 2), 20},
		{"two-byte element overruns", withExt(0x1000, 5, 3, 1, 2), 0},
		{"two-byte ID in the last byte", withExt(0x1000, 0, 0, 0, 5), 0},
		{"two-byte appbits are opaque", withExt(0x1001, 0, 0, 0, 5), 20},
		{"extension length past the end", withExt(0xbede, 0, 0, 0, 0)[:19], 0},
		{"short", make([]byte, 11), 0},
		{"CSRCs past the end", []byte{0x81, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3}, 0},
		{"X without room for the extension header", []byte{0x90, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xbe, 0xde, 0}, 0},
		{"version and padding unchecked", []byte{0x20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, 12},
	}
	for _, tt := range tests {
		n, err := rtpHeaderLen(tt.pkt)
		if err != nil {
			n = 0
		}
		ref, ok := pionHeaderLen(tt.pkt)
		if !ok {
			ref = 0
		}
		if n != tt.want || ref != tt.want {
			t.Errorf("%s: %d, pion %d, want %d", tt.name, n, ref, tt.want)
		}
	}
}

// FuzzRTPHeaderLen: the header length agrees with pion/rtp on arbitrary bytes (same accepts,
// same length).
func FuzzRTPHeaderLen(f *testing.F) {
	f.Add(buildRTP(rtpSpec{ext: extOneByte, csrcs: 2, payload: 5}))
	f.Add(buildRTP(rtpSpec{ext: extTwoByte}))
	f.Add(buildRTP(rtpSpec{ext: extOpaque, padding: 3}))
	f.Add(withExt(0xbede, 0xf3, 0, 0, 0))
	f.Add([]byte{0x90})
	f.Fuzz(func(t *testing.T, pkt []byte) {
		n, err := rtpHeaderLen(pkt)
		ref, ok := pionHeaderLen(pkt)
		if (err == nil) != ok || (ok && n != ref) {
			t.Fatalf("%x: ours %d %v, pion %d ok=%v", pkt, n, err, ref, ok)
		}
		if err == nil && (n < 12 || n > len(pkt)) {
			t.Fatalf("%x: length %d out of range", pkt, n)
		}
	})
}
