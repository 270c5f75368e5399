package rtp

import (
	"bytes"
	"testing"

	"github.com/pion/rtp/codecs"
)

// vp8Key is a VP8 keyframe header: frame tag (P=0), start code, 640x360 with
// the scaling bits set so the test sees them masked off.
var vp8Key = []byte{0x50, 0x42, 0x00, 0x9d, 0x01, 0x2a, 0x80, 0x42, 0x68, 0xc1, 0xaa}

// vp8Delta is an inter frame tag (P=1).
var vp8Delta = []byte{0x31, 0x02, 0x00, 0xbb}

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

func TestVP8Parse(t *testing.T) {
	tests := []struct {
		name string
		b    []byte
		want VP8Descriptor
	}{
		{"minimal keyframe start", cat([]byte{0x10}, vp8Key),
			VP8Descriptor{S: true, Len: 1, Keyframe: true, Width: 640, Height: 360}},
		{"chrome simulcast keyframe", cat([]byte{0x90, 0xe0, 0x81, 0x23, 0x07, 0x40}, vp8Key),
			VP8Descriptor{X: true, S: true, I: true, L: true, T: true, PictureID: 0x123, PictureIDLen: 2,
				TL0PICIDX: 7, TID: 1, PictureIDOff: 2, TL0Off: 4, TIDOff: 5, Len: 6, Keyframe: true, Width: 640, Height: 360}},
		{"7-bit picture id, TID 2 with Y, delta frame", cat([]byte{0x90, 0xe0, 0x45, 0x09, 0xa0}, vp8Delta),
			VP8Descriptor{X: true, S: true, I: true, L: true, T: true, PictureID: 0x45, PictureIDLen: 1,
				TL0PICIDX: 9, TID: 2, Y: true, PictureIDOff: 2, TL0Off: 3, TIDOff: 4, Len: 5}},
		{"K only, non-reference, later partition", cat([]byte{0xa3, 0x10, 0x1f}, vp8Key),
			VP8Descriptor{X: true, N: true, PartID: 3, K: true, KEYIDX: 31, TIDOff: 2, Len: 3}},
		{"continuation packet (S=0) of a keyframe", cat([]byte{0x80, 0x80, 0xff, 0xff}, vp8Key),
			VP8Descriptor{X: true, I: true, PictureID: 0x7fff, PictureIDLen: 2, PictureIDOff: 2, Len: 4}},
		{"keyframe with bad start code has no size", cat([]byte{0x10}, []byte{0x50, 0x42, 0x00, 0x9d, 0x01, 0x2b, 1, 2, 3, 4}),
			VP8Descriptor{S: true, Len: 1, Keyframe: true}},
		{"keyframe header cut short", cat([]byte{0x10}, vp8Key[:9]),
			VP8Descriptor{S: true, Len: 1, Keyframe: true}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var d VP8Descriptor
			if r := d.Parse(tc.b); r != DropNone {
				t.Fatalf("Parse: %v", r)
			}
			if d != tc.want {
				t.Errorf("got  %+v\nwant %+v", d, tc.want)
			}
			// Oracle: pion agrees on every descriptor field.
			var pp codecs.VP8Packet
			rest, err := pp.Unmarshal(tc.b)
			if err != nil {
				t.Fatalf("pion: %v", err)
			}
			got := [...]any{pp.X == 1, pp.N == 1, pp.S == 1, pp.PID, pp.I == 1, pp.L == 1, pp.T == 1, pp.K == 1,
				pp.PictureID, pp.TL0PICIDX, pp.TID, pp.Y == 1, pp.KEYIDX, len(tc.b) - len(rest)}
			want := [...]any{d.X, d.N, d.S, d.PartID, d.I, d.L, d.T, d.K, d.PictureID, d.TL0PICIDX, d.TID, d.Y, d.KEYIDX, d.Len}
			if got != want {
				t.Errorf("pion %v\nours %v", got, want)
			}
		})
	}
}

func TestVP8ParseDrop(t *testing.T) {
	tests := []struct {
		name string
		b    []byte
		want DropReason
	}{
		{"empty", nil, DropTooShort},
		{"X without X byte", []byte{0x80}, DropTruncated},
		{"I without picture id", []byte{0x80, 0x80}, DropTruncated},
		{"M without second byte", []byte{0x80, 0x80, 0x80}, DropTruncated},
		{"L without TL0PICIDX", []byte{0x80, 0x40}, DropTruncated},
		{"T without TID byte", []byte{0x80, 0x20}, DropTruncated},
		{"K without KEYIDX byte", []byte{0x80, 0xd0, 0x01, 0x02}, DropTruncated},
		{"descriptor without data", []byte{0x90, 0xe0, 0x81, 0x23, 0x07, 0x40}, DropTruncated},
		{"one byte descriptor only", []byte{0x10}, DropTruncated},
	}
	for _, tc := range tests {
		var d VP8Descriptor
		if got := d.Parse(tc.b); got != tc.want {
			t.Errorf("%s: Parse = %v, want %v", tc.name, got, tc.want)
		}
		if d != (VP8Descriptor{}) {
			t.Errorf("%s: failed Parse left %+v", tc.name, d)
		}
	}
}

func TestVP8Rewrite(t *testing.T) {
	tests := []struct {
		name   string
		src    []byte
		growth int
		want   []byte
	}{
		{"15-bit source", cat([]byte{0x90, 0xe0, 0x81, 0x23, 0x07, 0x40}, vp8Delta), 0,
			cat([]byte{0x90, 0xe0, 0xc3, 0x21, 0x55, 0x40}, vp8Delta)},
		{"7-bit source grows by one", cat([]byte{0x90, 0xe0, 0x45, 0x09, 0xa0}, vp8Delta), 1,
			cat([]byte{0x90, 0xe0, 0xc3, 0x21, 0x55, 0xa0}, vp8Delta)},
		{"no picture id: X byte kept, I added", cat([]byte{0xb2, 0x20, 0x40}, vp8Delta), 2,
			cat([]byte{0xb2, 0xa0, 0xc3, 0x21, 0x40}, vp8Delta)},
		{"no X byte: grows by three, tl0 ignored", cat([]byte{0x10}, vp8Key), 3,
			cat([]byte{0x90, 0x80, 0xc3, 0x21}, vp8Key)},
		{"reserved bits cleared", cat([]byte{0xd8, 0xef, 0x81, 0x23, 0x07, 0x40}, vp8Delta), 0,
			cat([]byte{0x90, 0xe0, 0xc3, 0x21, 0x55, 0x40}, vp8Delta)},
	}
	const pid, tl0 = 0x4321, 0x55 // 0x4321 has bit 14 set; the M bit goes on top
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var d VP8Descriptor
			if r := d.Parse(tc.src); r != DropNone {
				t.Fatal(r)
			}
			if g := d.RewrittenLen() - d.Len; g != tc.growth {
				t.Errorf("growth = %d, want %d", g, tc.growth)
			}
			dst := make([]byte, 1500)
			n := VP8RewriteInto(dst, tc.src, pid, tl0)
			if !bytes.Equal(dst[:n], tc.want) {
				t.Errorf("RewriteInto = %x\nwant          %x", dst[:n], tc.want)
			}
			if m := VP8RewriteInto(dst[:n-1], tc.src, pid, tl0); m != 0 {
				t.Errorf("short dst wrote %d", m)
			}
			var back VP8Descriptor
			if r := back.Parse(dst[:n]); r != DropNone || back.PictureID != pid || back.PictureIDLen != 2 ||
				(back.L && back.TL0PICIDX != tl0) || back.Keyframe != d.Keyframe {
				t.Errorf("re-parse: %v %+v", r, back)
			}
			inPlace := append([]byte(nil), tc.src...)
			ok := d.RewriteInPlace(inPlace, pid, tl0)
			if ok != (tc.growth == 0) {
				t.Fatalf("RewriteInPlace = %v with growth %d", ok, tc.growth)
			}
			wantInPlace := append([]byte(nil), tc.src...) // only picture ID and TL0PICIDX change
			if ok {
				wantInPlace[d.PictureIDOff], wantInPlace[d.PictureIDOff+1], wantInPlace[d.TL0Off] = 0x80|pid>>8, pid&0xff, tl0
			}
			if ok && (!bytes.Equal(inPlace, wantInPlace) || d.PictureID != pid || d.TL0PICIDX != tl0) {
				t.Errorf("RewriteInPlace = %x, d=%+v", inPlace, d)
			}
			if !ok && !bytes.Equal(inPlace, tc.src) {
				t.Error("failed RewriteInPlace changed the payload")
			}
		})
	}
	if n := VP8RewriteInto(make([]byte, 100), []byte{0x80}, 1, 1); n != 0 {
		t.Errorf("invalid source wrote %d", n)
	}
	var zero VP8Descriptor
	if zero.RewriteInto(make([]byte, 100), []byte{0x10, 0}, 1, 1) != 0 || zero.RewriteInPlace([]byte{0x10, 0}, 1, 1) {
		t.Error("zero descriptor rewrote")
	}
}

func TestVP8NoAllocs(t *testing.T) {
	src := cat([]byte{0x90, 0xe0, 0x45, 0x09, 0xa0}, vp8Key, make([]byte, 1000))
	src15 := cat([]byte{0x90, 0xe0, 0x81, 0x23, 0x07, 0x40}, vp8Key, make([]byte, 1000))
	dst := make([]byte, 1500)
	var d VP8Descriptor
	assertNoAllocs(t, "Parse", func() { d.Parse(src) })
	assertNoAllocs(t, "VP8RewriteInto", func() { VP8RewriteInto(dst, src, 1, 2) })
	d.Parse(src15)
	assertNoAllocs(t, "RewriteInPlace", func() { d.RewriteInPlace(src15, 1, 2) })
}
