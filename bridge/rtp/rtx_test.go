package rtp

import (
	"bytes"
	"testing"

	pionrtp "github.com/pion/rtp"
)

func TestRTXRoundTrip(t *testing.T) {
	orig := buildRTP(rtpSpec{marker: true, pt: 100, seq: 4321, ts: 90000, ssrc: 0x1111, csrc: []uint32{7},
		ext: true, profile: 0xBEDE, extBlock: []byte{0x10, 0x85}, payload: []byte("frame data")})
	dst := make([]byte, 1500)
	n := WrapRTX(dst, orig, 0x2222, 96, 1)
	if n != len(orig)+2 {
		t.Fatalf("WrapRTX = %d, want %d", n, len(orig)+2)
	}
	rtx := append([]byte(nil), dst[:n]...)
	var pp pionrtp.Packet
	if err := pp.Unmarshal(rtx); err != nil {
		t.Fatal(err)
	}
	if pp.SSRC != 0x2222 || pp.PayloadType != 96 || pp.SequenceNumber != 1 || pp.Timestamp != 90000 || !pp.Marker ||
		!bytes.Equal(pp.Payload, append([]byte{0x10, 0xe1}, "frame data"...)) || !bytes.Equal(pp.GetExtension(1), []byte{0x85}) {
		t.Errorf("pion sees %v payload %x", pp.Header, pp.Payload)
	}
	p := mustParse(t, rtx)
	if osn, ok := p.RTXOriginalSeq(); !ok || osn != 4321 {
		t.Errorf("RTXOriginalSeq = %d, %v", osn, ok)
	}
	if m := UnwrapRTX(dst, rtx, 0x1111, 100); m != len(orig) || !bytes.Equal(dst[:m], orig) {
		t.Errorf("UnwrapRTX = %x\nwant        %x", dst[:m], orig)
	}
	if !p.UnwrapRTX(0x1111, 100) || !bytes.Equal(p.Bytes(), orig) {
		t.Errorf("in-place UnwrapRTX = %x\nwant                %x", p.Bytes(), orig)
	}
	if got, want := viewOf(p), viewOf(mustParse(t, orig)); got != want {
		t.Errorf("view after in-place unwrap %+v, want %+v", got, want)
	}
	if m := WrapRTX(dst[:len(orig)+1], orig, 1, 2, 3); m != 0 {
		t.Errorf("short dst wrote %d", m)
	}
}

func TestRTXPadding(t *testing.T) {
	// Padding of the original is not retransmitted; RTX padding is removed on unwrap.
	orig := buildRTP(rtpSpec{pt: 100, seq: 9, payload: []byte{1, 2, 3}, padding: 5})
	dst := make([]byte, 1500)
	n := WrapRTX(dst, orig, 2, 96, 1)
	p := mustParse(t, dst[:n])
	if p.Padding() || !bytes.Equal(p.Payload(), []byte{0, 9, 1, 2, 3}) {
		t.Errorf("RTX %x", dst[:n])
	}
	rtxPadded := buildRTP(rtpSpec{pt: 96, seq: 1, payload: []byte{0, 9, 1, 2, 3}, padding: 8})
	want := buildRTP(rtpSpec{pt: 100, seq: 9, ssrc: 5, payload: []byte{1, 2, 3}})
	if m := UnwrapRTX(dst, rtxPadded, 5, 100); !bytes.Equal(dst[:m], want) {
		t.Errorf("UnwrapRTX = %x, want %x", dst[:m], want)
	}
	p = mustParse(t, rtxPadded)
	if !p.UnwrapRTX(5, 100) || !bytes.Equal(p.Bytes(), want) || p.PaddingLen() != 0 {
		t.Errorf("in place = %x, want %x", p.Bytes(), want)
	}
	// Chrome's padding-only RTX probes have no OSN: dropped.
	probe := buildRTP(rtpSpec{pt: 96, seq: 2, padding: 200})
	if m := UnwrapRTX(dst, probe, 5, 100); m != 0 {
		t.Errorf("probe unwrapped to %d bytes", m)
	}
	p = mustParse(t, probe)
	before := append([]byte(nil), probe...)
	if p.UnwrapRTX(5, 100) || !bytes.Equal(probe, before) {
		t.Error("in-place unwrap of a probe changed it")
	}
	if m := UnwrapRTX(dst, probe[:5], 5, 100); m != 0 {
		t.Error("invalid RTX unwrapped")
	}
	if m := WrapRTX(dst, probe[:5], 5, 100, 1); m != 0 {
		t.Error("invalid packet wrapped")
	}
}

func TestRTXNoAllocs(t *testing.T) {
	orig := buildRTP(rtpSpec{pt: 100, seq: 1, payload: make([]byte, 1000)})
	rtx := make([]byte, 1500)
	n := WrapRTX(rtx, orig, 2, 96, 1)
	dst := make([]byte, 1500)
	assertNoAllocs(t, "WrapRTX", func() { WrapRTX(dst, orig, 2, 96, 1) })
	assertNoAllocs(t, "UnwrapRTX", func() { UnwrapRTX(dst, rtx[:n], 1, 100) })
	var p Packet
	assertNoAllocs(t, "in place", func() {
		WrapRTX(dst, orig, 2, 96, 1)
		p.Parse(dst[:n])
		p.UnwrapRTX(1, 100)
	})
}
