package sender

import (
	"reflect"
	"testing"
	"unsafe"

	"github.com/cityjitsi/videobridge/bridge/internal/prefetch"
	"github.com/cityjitsi/videobridge/bridge/router"
	"github.com/cityjitsi/videobridge/bridge/rtp"
	"github.com/cityjitsi/videobridge/bridge/selector"
)

// Jicofo's ids (media.md §2.1): audio level 1, abs-send-time 3, transport-cc 5, mid 10.
var jicofoExt = router.Extensions{AudioLevel: 1, AbsSendTime: 3, TransportCC: 5, MID: 10}

func newReceiver(ext router.Extensions) *Receiver {
	rx := &Receiver{Ext: ext}
	rx.RTXFor[100] = 96
	return rx
}

func TestForwardAudio(t *testing.T) {
	s := New(false, 5000, 0)
	rx := newReceiver(router.Extensions{AudioLevel: 7, TransportCC: 5})
	in := &Input{Codec: router.CodecOpus, SrcExt: jicofoExt}
	var got []sent
	for i, lvl := range []uint8{30, 127, 127, 127, 127, 40} {
		b := pkt{ssrc: 5000, pt: 111, seq: uint16(65534 + i), ts: uint32(960 * i), seqBase: 1 << 16, tsBase: 1 << 32,
			exts:  []rtp.Ext{{ID: 1, Data: []byte{lvl}}, {ID: 5, Data: []byte{9, 9}}, {ID: 10, Data: []byte("a0")}},
			level: int8(lvl), payload: 40}.build()
		out, r, kf := s.Forward(b, in, rx, 0)
		if kf {
			t.Error("audio asked for a keyframe")
		}
		if r == DropNone {
			got = append(got, parseSent(out))
		} else if r != DropReason(selector.DropSilence) {
			t.Errorf("packet %d dropped: %v", i, r)
		}
	}
	// The fourth silent packet in a row is dropped and hidden from the sequence numbers; the
	// level goes out under the receiver's id 7; mid and the sender's transport-cc are stripped.
	lv := func(l byte) map[uint8]string { return map[uint8]string{7: string([]byte{l})} }
	want := []sent{
		{ssrc: 5000, pt: 111, seq: 65534, ts: 0, exts: lv(30)},
		{ssrc: 5000, pt: 111, seq: 65535, ts: 960, exts: lv(127)},
		{ssrc: 5000, pt: 111, seq: 0, ts: 1920, exts: lv(127)},
		{ssrc: 5000, pt: 111, seq: 1, ts: 2880, exts: lv(127)},
		{ssrc: 5000, pt: 111, seq: 2, ts: 4800, exts: lv(40)},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("sent:\n got %+v\nwant %+v", got, want)
	}
	if rx.TransportSeq() != 0 {
		t.Error("audio got a transport-wide sequence number")
	}
}

// simulcastStream produces VP8 frames of three encodings (SSRCs 1001..1003), one packet each.
type simulcastStream struct {
	frame int
	key   bool
}

func (st *simulcastStream) next(enc int8) *pkt {
	f := st.frame
	return &pkt{ssrc: 1001 + uint32(enc), pt: 100, seq: uint16(100*int(enc) + f), ts: uint32(1000*int(enc) + 3000*f),
		marker: true, enc: enc, vp8: true, pic: uint16(7000*int(enc) + f), tl0: uint8(50*int(enc) + f), tid: 0,
		key: st.key, payload: 100, seqBase: 1 << 16, tsBase: 1 << 32, arrivalNs: int64(f) * 33e6}
}

func TestForwardSimulcastSwitch(t *testing.T) {
	s := New(true, 1001, 1011)
	rx := newReceiver(jicofoExt)
	in := &Input{Codec: router.CodecVP8, SrcExt: jicofoExt}
	var st simulcastStream
	send := func(enc int8) (sent, DropReason, bool) {
		out, r, kf := s.Forward(st.next(enc).build(), in, rx, 0)
		if r != DropNone {
			return sent{}, r, kf
		}
		return parseSent(out), r, kf
	}
	// Suspended (no constraints yet): nothing, no keyframe request.
	if _, r, kf := send(0); r != DropReason(selector.DropSuspended) || kf {
		t.Fatalf("suspended sender: %v kf=%v", r, kf)
	}
	s.SetTarget(selector.Layer{Encoding: 0, Temporal: selector.MaxTemporal})
	st.frame++
	if _, r, kf := send(0); r != DropReason(selector.DropWaitingKeyframe) || !kf {
		t.Fatalf("waiting for a keyframe: %v kf=%v", r, kf)
	}
	var got []sent
	st.key = true
	for range 3 {
		st.frame++
		for e := int8(0); e < 3; e++ {
			if p, r, _ := send(e); r == DropNone {
				got = append(got, p)
			}
		}
		st.key = false
	}
	// Raise to encoding 2: its packets are dropped until its keyframe, then it takes over.
	s.SetTarget(selector.Layer{Encoding: 2, Temporal: selector.MaxTemporal})
	st.frame++
	for e := int8(0); e < 3; e++ {
		if p, r, _ := send(e); r == DropNone {
			got = append(got, p)
		}
	}
	st.frame++
	for e := int8(0); e < 3; e++ {
		st.key = e == 2 // only the target's keyframe (all three at once would step up through 1)
		if p, r, _ := send(e); r == DropNone {
			got = append(got, p)
		}
	}
	tcc := func(n byte) map[uint8]string { return map[uint8]string{5: string([]byte{0, n})} }
	want := []sent{
		{ssrc: 1001, pt: 100, seq: 2, ts: 6000, marker: true, pic: 2, tl0: 2, exts: tcc(1)},
		{ssrc: 1001, pt: 100, seq: 3, ts: 9000, marker: true, pic: 3, tl0: 3, exts: tcc(2)},
		{ssrc: 1001, pt: 100, seq: 4, ts: 12000, marker: true, pic: 4, tl0: 4, exts: tcc(3)},
		// Still encoding 0 while the switch waits (it is below the target: all frames).
		{ssrc: 1001, pt: 100, seq: 5, ts: 15000, marker: true, pic: 5, tl0: 5, exts: tcc(4)},
		{ssrc: 1001, pt: 100, seq: 6, ts: 18000, marker: true, pic: 6, tl0: 6, exts: tcc(5)},
		// Encoding 2's keyframe: on the primary SSRC, seq +1, picture ID and TL0PICIDX +1, and
		// the timestamp moves on by one frame interval per 33 ms.
		{ssrc: 1001, pt: 100, seq: 7, ts: 21000, marker: true, pic: 7, tl0: 7, exts: tcc(6)},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("sent:\n got %+v\nwant %+v", got, want)
	}
	if s.Current() != 2 {
		t.Errorf("current encoding %d, want 2", s.Current())
	}
	s.Close()
}

func TestRetransmit(t *testing.T) {
	s := New(true, 1001, 1011)
	s.SetTarget(selector.Layer{Encoding: 0, Temporal: selector.MaxTemporal})
	rx := newReceiver(jicofoExt)
	in := &Input{Codec: router.CodecVP8, SrcExt: jicofoExt}
	st := simulcastStream{key: true}
	var first sent
	bufs := 0
	for i := range 3 {
		st.frame++
		b := st.next(0).build()
		bufs++
		out, r, _ := s.Forward(b, in, rx, 0)
		if r != DropNone {
			t.Fatalf("frame %d dropped: %v", i, r)
		}
		if i == 0 {
			first = parseSent(out)
		}
		st.key = false
		if b.Refs() != 1 {
			t.Errorf("history holds %d references, want 1", b.Refs())
		}
	}
	for i, want := range []uint16{1, 2} {
		out, r := s.Retransmit(first.seq, in, rx, 0)
		if r != DropNone {
			t.Fatalf("retransmission %d: %v", i, r)
		}
		var p rtp.Packet
		if p.Parse(out) != rtp.DropNone {
			t.Fatal("RTX does not parse")
		}
		osn, _ := p.RTXOriginalSeq()
		if p.SSRC() != 1011 || p.PayloadType() != 96 || p.Seq() != want || osn != first.seq || p.Timestamp() != first.ts {
			t.Errorf("RTX %d: ssrc %d pt %d seq %d osn %d ts %d", i, p.SSRC(), p.PayloadType(), p.Seq(), osn, p.Timestamp())
		}
		// Unwrapped, it is the packet first sent (with a new transport-wide number).
		if !p.UnwrapRTX(1001, 100) {
			t.Fatal("RTX does not unwrap")
		}
		got := parseSent(p.Bytes())
		got.exts, first.exts = nil, nil
		if !reflect.DeepEqual(got, first) {
			t.Errorf("unwrapped RTX %+v, want %+v", got, first)
		}
	}
	if _, r := s.Retransmit(first.seq+100, in, rx, 0); r != DropNotInHistory {
		t.Errorf("unknown seq: %v", r)
	}
	// Without an RTX payload type for VP8 the packet goes again as it was.
	rx.RTXFor[100] = 0
	out, r := s.Retransmit(first.seq, in, rx, 0)
	if got := parseSent(out); r != DropNone || got.ssrc != 1001 || got.seq != first.seq || got.pt != 100 {
		t.Errorf("plain retransmission %+v %v", got, r)
	}
	s.Close()
}

func TestHistoryReleases(t *testing.T) {
	s := New(true, 1001, 1011)
	s.SetTarget(selector.Layer{Encoding: 0, Temporal: selector.MaxTemporal})
	rx := newReceiver(jicofoExt)
	in := &Input{Codec: router.CodecVP8}
	st := simulcastStream{key: true}
	st.frame++
	first := st.next(0).build()
	first.Ref() // the test's own, to watch the history's
	if _, r, _ := s.Forward(first, in, rx, 0); r != DropNone {
		t.Fatal(r)
	}
	st.key = false
	for range HistorySize {
		st.frame++
		if _, r, _ := s.Forward(st.next(0).build(), in, rx, 0); r != DropNone {
			t.Fatal(r)
		}
	}
	if first.Refs() != 1 {
		t.Errorf("evicted packet still referenced: %d", first.Refs())
	}
	first.Release()
}

func TestTranslateSR(t *testing.T) {
	s := New(true, 1001, 1011)
	si := rtp.SenderInfo{SSRC: 1003, NTPTime: 42, RTPTime: 5000, PacketCount: 9, OctetCount: 99}
	if _, ok := s.TranslateSR(2, si); ok {
		t.Error("SR forwarded before anything was sent")
	}
	s.SetTarget(selector.Layer{Encoding: 0, Temporal: selector.MaxTemporal})
	st := simulcastStream{key: true, frame: 1}
	if _, r, _ := s.Forward(st.next(0).build(), &Input{Codec: router.CodecVP8}, newReceiver(jicofoExt), 0); r != DropNone {
		t.Fatal(r)
	}
	if _, ok := s.TranslateSR(2, si); ok {
		t.Error("SR of an encoding not sent was forwarded")
	}
	got, ok := s.TranslateSR(0, rtp.SenderInfo{SSRC: 1001, NTPTime: 42, RTPTime: 5000, PacketCount: 9, OctetCount: 99})
	want := rtp.SenderInfo{SSRC: 1001, NTPTime: 42, RTPTime: 5000, PacketCount: 1, OctetCount: 116}
	if !ok || got != want {
		t.Errorf("SR = %+v %v, want %+v", got, ok, want)
	}
}

func TestKeyframeLimiter(t *testing.T) {
	const ms = int64(1e6)
	var l KeyframeLimiter
	var got []bool
	for _, at := range []int64{0, 100, 200, 400, 600, 9_000, 10_000, 10_150, 10_300, 20_400} {
		got = append(got, l.Allow(at*ms))
	}
	want := []bool{true, false, true, true, false, false, true, false, true, true}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("allowed %v, want %v", got, want)
	}
	var sl SourceLimiter
	got = got[:0]
	for _, at := range []int64{0, 199, 200, 300, 401} {
		got = append(got, sl.Allow(at*ms))
	}
	if want := []bool{true, false, true, false, true}; !reflect.DeepEqual(got, want) {
		t.Errorf("source limiter allowed %v, want %v", got, want)
	}
}

func TestAbsSendTime(t *testing.T) {
	var b [3]byte
	putAbsSendTime(b[:], 1_500_000_000) // 1.5 s = 0x060000 in 6.18
	if b != [3]byte{0x06, 0x00, 0x00} {
		t.Errorf("abs-send-time %x", b)
	}
}

func TestDropReasonNames(t *testing.T) {
	if DropReason(selector.DropSuspended).String() != "suspended" || DropRewrite.String() != "rewrite" ||
		DropNotInHistory.String() != "not_in_history" || DropReason(200).String() != "unknown" {
		t.Error("names")
	}
}

// TestForwardGrowsShortPictureID: a source with 7-bit picture IDs (and padding) goes out
// with the 15-bit form, the payload intact and the padding dropped.
func TestForwardGrowsShortPictureID(t *testing.T) {
	s := New(true, 1001, 1011)
	s.SetTarget(selector.Layer{Encoding: 0, Temporal: selector.MaxTemporal})
	rx := newReceiver(router.Extensions{})
	src := pkt{ssrc: 1001, pt: 100, seq: 7, ts: 90, marker: true, vp8: true, pic: 100, shortPic: true, tl0: 3,
		key: true, payload: 20, padding: 4, seqBase: 1 << 16, tsBase: 1 << 32}
	b := src.build()
	in := append([]byte(nil), b.Payload()...)
	out, r, _ := s.Forward(b, &Input{Codec: router.CodecVP8}, rx, 0)
	if r != DropNone {
		t.Fatal(r)
	}
	var p rtp.Packet
	if p.Parse(out) != rtp.DropNone || p.Padding() || p.HasExtension() {
		t.Fatalf("output %x", out)
	}
	var d rtp.VP8Descriptor
	if d.Parse(p.Payload()) != rtp.DropNone || d.PictureIDLen != 2 || d.PictureID != 100 || d.TL0PICIDX != 3 {
		t.Errorf("descriptor %+v", d)
	}
	// Same VP8 data after a descriptor one byte longer.
	if got, want := p.Payload()[d.Len:], in[5:]; string(got) != string(want) {
		t.Errorf("VP8 data changed:\n got %x\nwant %x", got, want)
	}
	s.Close()
}

// TestPrefetchCovers checks that the hints reach what Forward reads, for audio and video
// senders, whatever the layout becomes.
func TestPrefetchCovers(t *testing.T) {
	v := New(true, 1001, 1011)
	v.lastSeq = HistorySize - 1 // the next slot wraps to 0
	var head, deep prefetch.Batch
	v.PrefetchHead(KindVP8, &head)
	v.PrefetchHistory(&deep)
	for name, p := range map[string]unsafe.Pointer{
		"video": unsafe.Pointer(&v.video), "target": unsafe.Pointer(&v.target), "lastSeq": unsafe.Pointer(&v.lastSeq),
		"vp8 start": unsafe.Pointer(&v.vp8), "vp8 end": unsafe.Add(unsafe.Pointer(&v.vp8), unsafe.Sizeof(v.vp8)-1),
	} {
		if !head.Covers(p) {
			t.Errorf("video head hints miss %s", name)
		}
	}
	if !deep.Covers(unsafe.Pointer(&v.hist.e[0])) || deep.Covers(unsafe.Pointer(&v.hist.e[HistorySize/2])) {
		t.Error("deep hints miss the next history slot, or cover another")
	}
	a := New(false, 1000, 0)
	var ah, ad, g prefetch.Batch
	a.PrefetchHead(KindAudio, &ah)
	a.PrefetchHistory(&ad)
	if !ah.Covers(unsafe.Pointer(&a.packets)) || !ah.Covers(unsafe.Add(unsafe.Pointer(&a.audio), unsafe.Sizeof(a.audio)-1)) {
		t.Error("audio head hints miss the head or the audio state")
	}
	if ad.Lines() != 0 {
		t.Errorf("audio deep hints %d lines: audio keeps no history", ad.Lines())
	}
	v.PrefetchHead(KindOtherVideo, &g)
	if !g.Covers(unsafe.Pointer(&v.target)) || !g.Covers(unsafe.Add(unsafe.Pointer(&v.generic), unsafe.Sizeof(v.generic)-1)) {
		t.Error("generic video head hints miss the head or the generic state")
	}
}

// TestForwardPadTo: a packet is padded to PadTo (RFC 3550 padding: P bit, count last) and
// keeps its payload; one that already carries padding, or is as long, goes out as it is.
func TestForwardPadTo(t *testing.T) {
	tests := []struct {
		name          string
		payload, pad  int // codec payload after the VP8 descriptor; the source's padding
		padTo         int // Input.PadTo less the payload length (descriptor and VP8 header included)
		wantPad       int // padding bytes in the sent packet
		wantPayload   int // payload length after the descriptor, as the receiver sees it
		wantSentBytes int // difference to the unpadded send
	}{
		{"one byte short", 100, 0, 1, 1, 100, 1},
		{"eight short", 100, 0, 8, 8, 100, 8},
		{"as long", 100, 0, 0, 0, 100, 0},
		{"longer than PadTo", 100, 0, -50, 0, 100, 0},
		{"source padding kept", 100, 4, 2, 4, 100, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			send := func(padTo int) []byte {
				s := New(true, 1001, 1011)
				s.SetTarget(selector.Layer{Encoding: 0, Temporal: selector.MaxTemporal})
				rx := newReceiver(jicofoExt)
				b := pkt{ssrc: 1001, pt: 100, seq: 7, ts: 3000, enc: 0, vp8: true, pic: 9, key: true,
					payload: tt.payload, padding: tt.pad, seqBase: 1 << 16, tsBase: 1 << 32}.build()
				out, r, _ := s.Forward(b, &Input{Codec: router.CodecVP8, SrcExt: jicofoExt, PadTo: padTo}, rx, 0)
				if r != DropNone {
					t.Fatalf("dropped: %v", r)
				}
				return append([]byte(nil), out...)
			}
			// 6-byte descriptor and the 10-byte keyframe header come before the pkt payload.
			plain, padded := send(0), send(tt.payload+16+tt.padTo)
			var p rtp.Packet
			if r := p.Parse(padded); r != rtp.DropNone {
				t.Fatalf("padded packet does not parse: %v", r)
			}
			gotPad := len(padded) - p.HeaderLen() - len(p.Payload())
			if gotPad != tt.wantPad || padded[0]&0x20 != 0 != (tt.wantPad > 0) {
				t.Errorf("padding %d bytes (P=%v), want %d", gotPad, padded[0]&0x20 != 0, tt.wantPad)
			}
			if got := len(p.Payload()) - 16; got != tt.wantPayload {
				t.Errorf("payload %d bytes, want %d", got, tt.wantPayload)
			}
			if d := len(padded) - len(plain) + tt.pad; tt.pad == 0 && d != tt.wantSentBytes {
				t.Errorf("padded send is %d bytes longer, want %d", d, tt.wantSentBytes)
			}
			if parseSent(padded).seq != parseSent(plain).seq || string(p.Payload()) != string(plainPayload(t, plain)) {
				t.Error("padding changed the packet's header or payload")
			}
		})
	}
}

func plainPayload(t *testing.T, b []byte) []byte {
	t.Helper()
	var p rtp.Packet
	if r := p.Parse(b); r != rtp.DropNone {
		t.Fatalf("plain packet does not parse: %v", r)
	}
	return p.Payload()
}
