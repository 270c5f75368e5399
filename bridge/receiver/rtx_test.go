package receiver

import (
	"testing"

	"github.com/cityjitsi/videobridge/bridge/rtp"
)

func TestUnwrapRTX(t *testing.T) {
	var types RTXTypes
	types.Set(96, 100) // VP8 and its RTX, Jicofo's defaults
	types.Set(97, 101)
	type view struct {
		SSRC    uint32
		PT      uint8
		Seq     uint16
		TS      uint32
		Marker  bool
		Payload string
	}
	tests := []struct {
		name string
		in   pkt
		r    DropReason
		want view // after the call (unchanged on a drop)
	}{
		{
			name: "retransmission",
			in:   pkt{pt: 96, seq: 7, ts: 9000, ssrc: 0x2222, marker: true, payload: []byte{0x12, 0x34, 'v', 'p', '8'}},
			want: view{0x1111, 100, 0x1234, 9000, true, "vp8"},
		},
		{
			name: "retransmission with padding",
			in:   pkt{pt: 97, seq: 8, ts: 1, ssrc: 0x2222, payload: []byte{0, 5, 'x'}, padding: 3},
			want: view{0x1111, 101, 5, 1, false, "x"},
		},
		{
			name: "padding-only probe",
			in:   pkt{pt: 96, seq: 9, ts: 2, ssrc: 0x2222, padding: 200},
			r:    DropPadding,
			want: view{0x2222, 96, 9, 2, false, ""},
		},
		{
			name: "one byte left after padding",
			in:   pkt{pt: 96, seq: 10, ts: 2, ssrc: 0x2222, payload: []byte{1}, padding: 4},
			r:    DropPadding,
			want: view{0x2222, 96, 10, 2, false, "\x01"},
		},
		{
			name: "not an RTX payload type",
			in:   pkt{pt: 100, seq: 11, ts: 3, ssrc: 0x2222, payload: []byte{0, 1, 2}},
			r:    DropUnknownRTXType,
			want: view{0x2222, 100, 11, 3, false, "\x00\x01\x02"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := parse(t, build(tt.in))
			if r := UnwrapRTX(&p, 0x1111, &types); r != tt.r {
				t.Fatalf("UnwrapRTX = %v, want %v", r, tt.r)
			}
			got := view{p.SSRC(), p.PayloadType(), p.Seq(), p.Timestamp(), p.Marker(), string(p.Payload())}
			if got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
			var again rtp.Packet
			if r := again.Parse(p.Bytes()); r != rtp.DropNone {
				t.Errorf("result does not parse: %v", r)
			}
		})
	}
}

func TestRTXTypes(t *testing.T) {
	var types RTXTypes
	types.Set(96, 100)
	types.Set(0x80|42, 41) // the top bit is ignored
	tests := []struct {
		pt   uint8
		apt  uint8
		isRT bool
	}{{96, 100, true}, {42, 41, true}, {100, 0, false}, {0, 0, false}, {127, 0, false}}
	for _, tt := range tests {
		apt, ok := types.APT(tt.pt)
		if apt != tt.apt || ok != tt.isRT {
			t.Errorf("APT(%d) = %d, %v; want %d, %v", tt.pt, apt, ok, tt.apt, tt.isRT)
		}
	}
}

func TestAudioLevel(t *testing.T) {
	tests := []struct {
		name  string
		exts  []byte
		id    uint8
		level int8
		voice bool
	}{
		{"voice", []byte{0x10, 0x80 | 30}, 1, 30, true},
		{"silence", []byte{0x10, 127}, 1, 127, false},
		{"after other elements", []byte{0x51, 0, 7, 0x10, 0x85}, 1, 5, true},
		{"padded element", []byte{0x12, 40, 0, 0}, 1, 40, false},
		{"other id", []byte{0x10, 0x80 | 30}, 3, -1, false},
		{"no extensions", nil, 1, -1, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := parse(t, build(pkt{pt: 111, exts: tt.exts, payload: []byte{1}}))
			level, voice := AudioLevel(&p, tt.id)
			if level != tt.level || voice != tt.voice {
				t.Errorf("AudioLevel = %d, %v; want %d, %v", level, voice, tt.level, tt.voice)
			}
		})
	}
}

func TestRTXAudioNoAllocs(t *testing.T) {
	var types RTXTypes
	types.Set(96, 100)
	src := build(pkt{pt: 96, seq: 7, ssrc: 2, exts: []byte{0x10, 0x85}, payload: make([]byte, 1100)})
	buf := make([]byte, len(src))
	var p rtp.Packet
	assertNoAllocs(t, "UnwrapRTX", func() {
		copy(buf, src)
		p.Parse(buf)
		UnwrapRTX(&p, 1, &types)
	})
	assertNoAllocs(t, "AudioLevel", func() { AudioLevel(&p, 1) })
}

func BenchmarkUnwrapRTX(b *testing.B) {
	var types RTXTypes
	types.Set(96, 100)
	src := build(pkt{pt: 96, seq: 7, ssrc: 2, payload: make([]byte, 1100)})
	buf := make([]byte, len(src))
	var p rtp.Packet
	b.ReportAllocs()
	b.SetBytes(int64(len(src)))
	for i := 0; i < b.N; i++ {
		copy(buf, src)
		p.Parse(buf)
		UnwrapRTX(&p, 1, &types)
	}
}

func BenchmarkAudioLevel(b *testing.B) {
	// Chrome's audio: audio level (1), transport-cc (5), mid (10).
	var p rtp.Packet
	p.Parse(build(pkt{pt: 111, exts: []byte{0x10, 0x85, 0x51, 0, 7, 0xa0, '0'}, payload: make([]byte, 80)}))
	b.ReportAllocs()
	n := 0
	for i := 0; i < b.N; i++ {
		l, _ := AudioLevel(&p, 1)
		n += int(l)
	}
	_ = n
}
