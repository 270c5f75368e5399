package rtp

import (
	"bytes"
	"fmt"
	"testing"

	pionrtp "github.com/pion/rtp"
)

func TestParseValid(t *testing.T) {
	tests := []struct {
		name string
		spec rtpSpec
		want rtpView
	}{
		{
			name: "minimal",
			spec: rtpSpec{pt: 111, seq: 7, ts: 960, ssrc: 0xdeadbeef, payload: []byte("op")},
			want: rtpView{Version: 2, PT: 111, Seq: 7, TS: 960, SSRC: 0xdeadbeef, HdrLen: 12, PayloadLen: 2, Payload: "op"},
		},
		{
			name: "marker, csrcs, padding",
			spec: rtpSpec{marker: true, pt: 100, seq: 65535, ts: 1, ssrc: 2, csrc: []uint32{9, 10}, padding: 4, payload: []byte("abc")},
			want: rtpView{Version: 2, PT: 100, Padding: true, Marker: true, CC: 2, Seq: 65535, TS: 1, SSRC: 2,
				HdrLen: 20, PayloadLen: 3, PadLen: 4, Payload: "abc"},
		},
		{
			name: "one-byte extensions with padding between elements",
			spec: rtpSpec{pt: 96, ext: true, profile: 0xBEDE,
				extBlock: []byte{0x10, 0xaa, 0x00, 0x51, 0x01, 0x02}, payload: []byte{1}},
			want: rtpView{Version: 2, PT: 96, Ext: true, HdrLen: 24, PayloadLen: 1, Payload: "\x01",
				Profile: 0xBEDE, Exts: "1:aa,5:0102"},
		},
		{
			name: "one-byte id 15 stops processing",
			spec: rtpSpec{pt: 96, ext: true, profile: 0xBEDE,
				extBlock: []byte{0x10, 0xaa, 0xf0, 0x20, 0xbb}, payload: []byte{1}},
			want: rtpView{Version: 2, PT: 96, Ext: true, HdrLen: 24, PayloadLen: 1, Payload: "\x01",
				Profile: 0xBEDE, Exts: "1:aa"},
		},
		{
			name: "two-byte extensions, empty element and appbits",
			spec: rtpSpec{pt: 41, ext: true, profile: 0x1003,
				extBlock: []byte{0x20, 0x00, 0x00, 0xff, 0x02, 0x01, 0x02}, payload: []byte{1}},
			want: rtpView{Version: 2, PT: 41, Ext: true, HdrLen: 24, PayloadLen: 1, Payload: "\x01",
				Profile: 0x1003, Exts: "32:,255:0102"},
		},
		{
			name: "opaque RFC 3550 extension",
			spec: rtpSpec{pt: 41, ext: true, profile: 0x1234, extBlock: []byte{1, 2, 3, 4}},
			want: rtpView{Version: 2, PT: 41, Ext: true, HdrLen: 20, Profile: 0x1234},
		},
		{
			name: "padding only",
			spec: rtpSpec{pt: 100, padding: 255},
			want: rtpView{Version: 2, PT: 100, Padding: true, HdrLen: 12, PadLen: 255},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := mustParse(t, buildRTP(tc.spec))
			if got := viewOf(p); got != tc.want {
				t.Errorf("got  %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestParseDropReasons(t *testing.T) {
	valid := buildRTP(rtpSpec{pt: 96, seq: 1, payload: []byte{1, 2, 3}})
	mod := func(b []byte, f func([]byte) []byte) []byte { return f(append([]byte(nil), b...)) }
	tests := []struct {
		name string
		b    []byte
		want DropReason
	}{
		{"empty", nil, DropTooShort},
		{"11 bytes", valid[:11], DropTooShort},
		{"version 1", mod(valid, func(b []byte) []byte { b[0] = 0x40; return b }), DropBadVersion},
		{"csrc count beyond length", mod(valid, func(b []byte) []byte { b[0] |= 2; return b }), DropCSRCOverflow},
		{"extension header missing", mod(valid, func(b []byte) []byte { b[0] |= 0x10; return b }), DropExtensionOverflow},
		{"extension length beyond packet",
			buildRTP(rtpSpec{ext: true, profile: 0xBEDE, extBlock: []byte{0x10, 1, 0, 0}})[:16+3], DropExtensionOverflow},
		{"extension words beyond packet", mod(buildRTP(rtpSpec{ext: true, profile: 0xBEDE, extBlock: []byte{0x10, 1, 0, 0}}),
			func(b []byte) []byte { b[15] = 2; return b }), DropExtensionOverflow},
		{"one-byte element overruns block",
			buildRTP(rtpSpec{ext: true, profile: 0xBEDE, extBlock: []byte{0x14, 1, 2, 3}}), DropBadExtension},
		{"two-byte element without length byte",
			buildRTP(rtpSpec{ext: true, profile: 0x1000, extBlock: []byte{0, 0, 0, 7}}), DropBadExtension},
		{"two-byte element overruns block",
			buildRTP(rtpSpec{ext: true, profile: 0x1000, extBlock: []byte{7, 3, 1, 2}}), DropBadExtension},
		{"padding count zero", mod(buildRTP(rtpSpec{padding: 2, payload: []byte{1}}),
			func(b []byte) []byte { b[len(b)-1] = 0; return b }), DropBadPadding},
		{"padding beyond payload", mod(buildRTP(rtpSpec{padding: 2, payload: []byte{1}}),
			func(b []byte) []byte { b[len(b)-1] = 4; return b }), DropBadPadding},
		{"padding bit with no payload", mod(valid[:12], func(b []byte) []byte { b[0] |= 0x20; return b }), DropBadPadding},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var p Packet
			if got := p.Parse(tc.b); got != tc.want {
				t.Fatalf("Parse = %v, want %v", got, tc.want)
			}
			if got := viewOf(&p); got != (rtpView{}) {
				t.Errorf("failed Parse left a non-zero view: %+v", got)
			}
		})
	}
}

// TestParseMatchesPion cross-checks the view against pion/rtp marshal output.
func TestParseMatchesPion(t *testing.T) {
	for _, profile := range []uint16{pionrtp.ExtensionProfileOneByte, pionrtp.ExtensionProfileTwoByte} {
		h := pionrtp.Header{Version: 2, Marker: true, PayloadType: 100, SequenceNumber: 4242,
			Timestamp: 90000, SSRC: 0x01020304, CSRC: []uint32{5, 6}}
		for _, e := range []struct {
			id   uint8
			data []byte
		}{{1, []byte{0x7f}}, {5, []byte{0, 9}}, {11, bytes.Repeat([]byte{3}, 16)}} {
			if err := h.SetExtensionWithProfile(e.id, e.data, profile); err != nil {
				t.Fatal(err)
			}
		}
		pkt := pionrtp.Packet{Header: h, Payload: []byte("vp8 payload"), PaddingSize: 3}
		pkt.Padding = true
		raw, err := pkt.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		p := mustParse(t, raw)
		for _, id := range []uint8{1, 5, 11, 2} {
			if got, want := p.Extension(id), h.GetExtension(id); !bytes.Equal(got, want) {
				t.Errorf("profile %#x: Extension(%d) = %x, want %x", profile, id, got, want)
			}
		}
		got := viewOf(p)
		got.Exts = ""
		want := rtpView{Version: 2, PT: 100, Padding: true, Ext: true, Marker: true, CC: 2, Seq: 4242, TS: 90000,
			SSRC: 0x01020304, HdrLen: len(raw) - len("vp8 payload") - 3, PayloadLen: len("vp8 payload"), PadLen: 3,
			Profile: profile, Payload: "vp8 payload"}
		if got != want {
			t.Errorf("profile %#x:\ngot  %+v\nwant %+v", profile, got, want)
		}
		if p.CSRC(0) != 5 || p.CSRC(1) != 6 || p.CSRC(2) != 0 {
			t.Errorf("CSRCs = %d %d %d", p.CSRC(0), p.CSRC(1), p.CSRC(2))
		}
	}
}

func TestSetters(t *testing.T) {
	b := buildRTP(rtpSpec{marker: true, pt: 100, seq: 1, ts: 2, ssrc: 3, payload: []byte{9}})
	p := mustParse(t, b)
	p.SetSeq(0xfffe)
	p.SetTimestamp(0xabcdef01)
	p.SetSSRC(0x11223344)
	p.SetPayloadType(0xff) // only 7 bits may land, marker kept
	want := rtpView{Version: 2, PT: 0x7f, Marker: true, Seq: 0xfffe, TS: 0xabcdef01, SSRC: 0x11223344,
		HdrLen: 12, PayloadLen: 1, Payload: "\x09"}
	if got := viewOf(p); got != want {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
	p.SetMarker(false)
	p.SetPayloadType(96)
	if p.Marker() || p.PayloadType() != 96 || b[1] != 96 {
		t.Errorf("marker/PT = %v/%d, byte %#x", p.Marker(), p.PayloadType(), b[1])
	}
	var h pionrtp.Header
	if _, err := h.Unmarshal(b); err != nil || h.SequenceNumber != 0xfffe || h.SSRC != 0x11223344 || h.Timestamp != 0xabcdef01 {
		t.Errorf("pion sees %+v, %v", h, err)
	}
	var zero Packet // setters on an unparsed packet do nothing
	zero.SetSeq(1)
	zero.SetMarker(true)
	if viewOf(&zero) != (rtpView{}) {
		t.Error("zero Packet changed")
	}
}

func TestSetExtension(t *testing.T) {
	b := buildRTP(rtpSpec{ext: true, profile: 0xBEDE, extBlock: []byte{0x51, 0, 0}, payload: []byte{1}})
	p := mustParse(t, b)
	if !p.SetExtension(5, []byte{0x12, 0x34}) {
		t.Fatal("SetExtension(5) failed")
	}
	if p.SetExtension(5, []byte{1}) || p.SetExtension(6, []byte{1, 2}) || p.SetExtension(0, nil) {
		t.Error("SetExtension accepted a wrong length or missing id")
	}
	if got := p.Extension(5); !bytes.Equal(got, []byte{0x12, 0x34}) {
		t.Errorf("Extension(5) = %x", got)
	}
}

func TestRewriteExtensions(t *testing.T) {
	payload := []byte("payload")
	oneByteSrc := rtpSpec{marker: true, pt: 100, seq: 10, ts: 20, ssrc: 30, csrc: []uint32{1},
		ext: true, profile: 0xBEDE,
		// audio level (1), abs-send-time (3), mid (10), TCC (5)
		extBlock: []byte{0x10, 0x85, 0x32, 1, 2, 3, 0xa0, 'a', 0x51, 0, 7},
		payload:  payload, padding: 3}
	big := bytes.Repeat([]byte{0xdd}, 20)
	tests := []struct {
		name    string
		src     rtpSpec
		keep    ExtSet
		add     []Ext
		wantExt string
		profile uint16
	}{
		{"keep audio level, add tcc", oneByteSrc, NewExtSet(1), []Ext{{5, []byte{0, 1}}}, "1:85,5:0001", 0xBEDE},
		{"added id replaces kept", oneByteSrc, NewExtSet(1, 5), []Ext{{5, []byte{9, 9}}}, "1:85,5:0909", 0xBEDE},
		{"keep order of source", oneByteSrc, NewExtSet(10, 3, 1), nil, "1:85,3:010203,10:61", 0xBEDE},
		{"strip all clears X", oneByteSrc, ExtSet{}, nil, "", 0},
		{"long element forces two-byte", oneByteSrc, NewExtSet(1), []Ext{{11, big}}, "1:85,11:" + fmt.Sprintf("%x", big), 0x1000},
		{"id above 14 forces two-byte", oneByteSrc, NewExtSet(1), []Ext{{15, []byte{1}}}, "1:85,15:01", 0x1000},
		{"empty element forces two-byte", oneByteSrc, ExtSet{}, []Ext{{2, []byte{}}}, "2:", 0x1000},
		{"two-byte source fitting one-byte", rtpSpec{pt: 41, ext: true, profile: 0x1000,
			extBlock: []byte{11, 2, 7, 8, 1, 1, 0x55}, payload: payload}, NewExtSet(11, 1), nil, "11:0708,1:55", 0xBEDE},
		{"no source block, add one", rtpSpec{pt: 41, payload: payload}, ExtSet{}, []Ext{{5, []byte{0, 1}}}, "5:0001", 0xBEDE},
		{"opaque source block dropped", rtpSpec{pt: 41, ext: true, profile: 0x1234, extBlock: []byte{1, 2, 3, 4},
			payload: payload}, NewExtSet(0, 1), nil, "", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			src := buildRTP(tc.src)
			dst := make([]byte, 1500)
			n := RewriteExtensions(dst, src, tc.keep, tc.add...)
			if n == 0 {
				t.Fatal("RewriteExtensions wrote nothing")
			}
			out := mustParse(t, dst[:n])
			in := mustParse(t, src)
			got, want := viewOf(out), viewOf(in)
			want.Exts, want.Profile, want.Ext, want.HdrLen = tc.wantExt, tc.profile, tc.profile != 0, got.HdrLen
			if got != want {
				t.Errorf("got  %+v\nwant %+v", got, want)
			}
			if (got.HdrLen-12-4*got.CC)%4 != 0 {
				t.Errorf("extension block not word aligned: header %d", got.HdrLen)
			}
			var pp pionrtp.Packet
			if err := pp.Unmarshal(dst[:n]); err != nil {
				t.Fatalf("pion Unmarshal: %v", err)
			}
			if !bytes.Equal(pp.Payload, in.Payload()) {
				t.Errorf("pion payload %q", pp.Payload)
			}
			// The length of dst, not its capacity, bounds the write.
			if m := RewriteExtensions(dst[:n-1], src, tc.keep, tc.add...); m != 0 {
				t.Errorf("short dst: wrote %d", m)
			}
		})
	}
}

func TestRewriteExtensionsInvalid(t *testing.T) {
	src := buildRTP(rtpSpec{pt: 1, payload: []byte{1}})
	dst := make([]byte, 1500)
	for name, add := range map[string]Ext{"id 0": {0, []byte{1}}, "256 bytes": {3, make([]byte, 256)}} {
		if n := RewriteExtensions(dst, src, ExtSet{}, add); n != 0 {
			t.Errorf("%s: wrote %d", name, n)
		}
	}
	if n := RewriteExtensions(dst, src[:5], ExtSet{}); n != 0 {
		t.Errorf("invalid source: wrote %d", n)
	}
	var zero Packet
	if n := zero.RewriteExtensions(dst, ExtSet{}); n != 0 {
		t.Errorf("zero Packet: wrote %d", n)
	}
}

func TestExtSet(t *testing.T) {
	s := NewExtSet(0, 1, 63, 64, 255)
	for id := 0; id < 256; id++ {
		want := id == 0 || id == 1 || id == 63 || id == 64 || id == 255
		if s.Has(uint8(id)) != want {
			t.Errorf("Has(%d) = %v", id, !want)
		}
	}
}

func TestPacketNoAllocs(t *testing.T) {
	src := buildRTP(rtpSpec{pt: 100, ext: true, profile: 0xBEDE,
		extBlock: []byte{0x10, 0x85, 0x32, 1, 2, 3, 0x51, 0, 7}, payload: make([]byte, 1000)})
	dst := make([]byte, 1500)
	keep := NewExtSet(1)
	tcc := []byte{0, 1}
	var p Packet
	assertNoAllocs(t, "Parse", func() { p.Parse(src) })
	assertNoAllocs(t, "Extension", func() { _ = p.Extension(5) })
	assertNoAllocs(t, "setters", func() { p.SetSeq(1); p.SetTimestamp(2); p.SetSSRC(3); p.SetMarker(true); p.SetPayloadType(4) })
	assertNoAllocs(t, "RewriteExtensions", func() { RewriteExtensions(dst, src, keep, Ext{5, tcc}) })
	assertNoAllocs(t, "SetExtension", func() { p.SetExtension(5, tcc) })
}

// TestParseHeader: the padding count of an SRTP packet is encrypted, so ParseHeader ignores
// the padding bit (the payload runs to the end) but validates the header as Parse does.
func TestParseHeader(t *testing.T) {
	enc := buildRTP(rtpSpec{pt: 96, seq: 9, ext: true, profile: 0xBEDE, extBlock: []byte{0x51, 0x12, 0x34, 0},
		padding: 2, payload: []byte{1, 2, 3}})
	enc[len(enc)-1] = 0xff // what an encrypted padding count may look like
	var p Packet
	if r := p.Parse(enc); r != DropBadPadding {
		t.Fatalf("Parse = %v, want %v", r, DropBadPadding)
	}
	if r := p.ParseHeader(enc); r != DropNone {
		t.Fatalf("ParseHeader = %v", r)
	}
	if p.Seq() != 9 || p.PaddingLen() != 0 || p.PayloadLen() != len(enc)-p.HeaderLen() || !bytes.Equal(p.Extension(5), []byte{0x12, 0x34}) {
		t.Errorf("ParseHeader view: seq %d padding %d payload %d ext %x", p.Seq(), p.PaddingLen(), p.PayloadLen(), p.Extension(5))
	}
	bad := append([]byte(nil), enc...)
	bad[0] = 0x40
	if r := p.ParseHeader(bad); r != DropBadVersion {
		t.Errorf("ParseHeader of version 1 = %v", r)
	}
}
