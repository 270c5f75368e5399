package traffic

import (
	"encoding/binary"
	"math"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/cityjitsi/videobridge/bridge/rtp"
)

// TestVideoBitrates: over a 12 s window (four keyframe intervals) every encoding's VP8 data
// rate is within ±10 % of its target, for several seeds.
func TestVideoBitrates(t *testing.T) {
	for seed := uint64(1); seed <= 5; seed++ {
		v := NewVideo(VideoConfig{Seed: seed})
		bytes := make([]int, 3)
		frames := make([]int, 3)
		for _, f := range v.Due(12*time.Second-time.Nanosecond, nil) {
			bytes[f.Encoding] += f.Size
			frames[f.Encoding]++
		}
		for e, enc := range JitsiSimulcast() {
			got := float64(bytes[e]*8) / 12
			if math.Abs(got/float64(enc.Bitrate)-1) > 0.10 {
				t.Errorf("seed %d encoding %d: %.0f bps, want %d ±10%%", seed, e, got, enc.Bitrate)
			}
			if frames[e] != 360 {
				t.Errorf("seed %d encoding %d: %d frames in 12 s, want 360", seed, e, frames[e])
			}
		}
	}
}

// TestVideoKeyframesAndLayers: keyframes at 0, 3, 6 s and on request (not before the minimum
// gap), keyframes about KeyframeFactor average frames big, the L1T3 pattern restarting at each
// keyframe, TL0PICIDX advancing on TL0 and the picture ID on every frame.
func TestVideoKeyframesAndLayers(t *testing.T) {
	v := NewVideo(VideoConfig{Seed: 7, Encodings: JitsiSimulcast()[2:]})
	var got []Frame
	got = v.Due(4*time.Second, got)
	v.RequestKeyframe(0) // 1 s after the keyframe at 3 s: honoured with the next frame
	got = v.Due(4100*time.Millisecond, got)
	v.RequestKeyframe(0) // within 300 ms of the requested one: deferred
	got = v.Due(6500*time.Millisecond, got)

	var keys []time.Duration
	avg := 1_500_000.0 / 8 / 30
	for i, f := range got {
		if f.Keyframe {
			keys = append(keys, f.Time.Round(time.Millisecond))
			if r := float64(f.Size) / avg; r < 6*0.85 || r > 6*1.15 {
				t.Errorf("keyframe at %v: %d bytes = %.1f average frames, want 6 ±15%%", f.Time, f.Size, r)
			}
			if f.TID != 0 || !f.Sync || f.Width != 1280 || f.Height != 720 {
				t.Errorf("keyframe fields: %+v", f)
			}
		}
		if i > 0 {
			p := got[i-1]
			if f.PictureID != (p.PictureID+1)&0x7fff {
				t.Errorf("picture ID %d after %d", f.PictureID, p.PictureID)
			}
			wantTL0 := p.TL0PICIDX
			if f.TID == 0 {
				wantTL0++
			}
			if f.TL0PICIDX != wantTL0 {
				t.Errorf("frame %d: TL0PICIDX %d after %d (TID %d)", f.Number, f.TL0PICIDX, p.TL0PICIDX, f.TID)
			}
		}
	}
	// The request at 4 s comes after the frame captured at 4 s, so the next frame (4.033 s) is a
	// keyframe; the second request waits for 300 ms after it (4.333 s); the next periodic one
	// would be at 7.333 s.
	want := []time.Duration{0, 3 * time.Second, 4033 * time.Millisecond, 4333 * time.Millisecond}
	if !reflect.DeepEqual(keys, want) {
		t.Errorf("keyframes at %v, want %v", keys, want)
	}
	var tids []uint8
	for _, f := range got[:9] {
		tids = append(tids, f.TID)
	}
	if !reflect.DeepEqual(tids, []uint8{0, 2, 1, 2, 0, 2, 1, 2, 0}) {
		t.Errorf("temporal pattern %v", tids)
	}
}

// TestVP8Packetization: every packet fits MaxPacket, the frame's data is split exactly, S is on
// the first packet and the marker on the last, and the bridge's own parsers (bridge/rtp) read
// the header extensions, the payload descriptor and the keyframe size the way we wrote them.
func TestVP8Packetization(t *testing.T) {
	for _, size := range []int{10, 700, vp8MaxData, vp8MaxData + 1, 37500, 60000} {
		for _, key := range []bool{true, false} {
			f := Frame{Encoding: 2, Number: 9, Timestamp: 123456, Keyframe: key, TID: 0, Sync: true,
				PictureID: 0x7ffe, TL0PICIDX: 200, Size: size, Width: 1280, Height: 720}
			if !key {
				f.TID, f.NonRef, f.Sync = 2, true, false
			}
			st := RTPStream{SSRC: 0xabcdef01, PT: PTVP8, Seq: 65534}
			n := VP8Packets(size)
			data := 0
			var buf [MaxPacket]byte
			for i := 0; i < n; i++ {
				l, off := WriteVP8(buf[:], &st, &f, i, n, 42)
				if l > MaxPacket {
					t.Fatalf("size %d: packet %d is %d bytes", size, i, l)
				}
				SetTransportSeq(buf[:l], off, uint16(1000+i))
				SetAbsSendTime(buf[:l], off, 1500*time.Millisecond)
				var p rtp.Packet
				if r := p.Parse(buf[:l]); r != rtp.DropNone {
					t.Fatalf("size %d packet %d: %v", size, i, r)
				}
				if p.Seq() != uint16(65534+i) || p.SSRC() != st.SSRC || p.Timestamp() != 123456 ||
					p.PayloadType() != PTVP8 || p.Marker() != (i == n-1) {
					t.Errorf("size %d packet %d header: seq %d marker %v", size, i, p.Seq(), p.Marker())
				}
				if tw := p.Extension(ExtTransportCC); len(tw) != 2 || binary.BigEndian.Uint16(tw) != uint16(1000+i) {
					t.Errorf("transport-cc ext %x", tw)
				}
				if abs := p.Extension(ExtAbsSendTime); len(abs) != 3 || abs[0] != 0x06 || abs[1] != 0 || abs[2] != 0 {
					t.Errorf("abs-send-time %x, want 0x060000 (1.5 s in 6.18 fixed point)", abs)
				}
				var d rtp.VP8Descriptor
				pl := p.Payload()
				if r := d.Parse(pl[:len(pl)-StampLen]); r != rtp.DropNone {
					t.Fatalf("descriptor: %v", r)
				}
				if d.S != (i == 0) || d.PictureID != 0x7ffe || d.PictureIDLen != 2 || d.TL0PICIDX != 200 ||
					d.TID != f.TID || d.N != f.NonRef || d.Y != f.Sync || d.Keyframe != (key && i == 0) {
					t.Errorf("size %d packet %d descriptor %+v", size, i, d)
				}
				if key && i == 0 && (d.Width != 1280 || d.Height != 720) {
					t.Errorf("keyframe size %dx%d", d.Width, d.Height)
				}
				s, ok := ParseStamp(pl)
				if !ok || s.Sender != 42 || s.Stream != StreamVideo0+2 || s.Frame != 9 || (s.Flags&FlagKeyframe != 0) != key {
					t.Errorf("stamp %+v %v", s, ok)
				}
				data += len(pl) - StampLen - d.Len
			}
			if data != size {
				t.Errorf("size %d: packets carry %d data bytes", size, data)
			}
		}
	}
}

// TestAudio: 50 packets per second, the level extension as RFC 6464 says, a marker on the first
// packet of each talkspurt, silence at level 127.
func TestAudio(t *testing.T) {
	tk := NewTalker(TalkerConfig{Members: 3, Seed: 3}, time.Minute)
	a := NewAudio(tk, 1, 9)
	frames := a.Due(10*time.Second-time.Nanosecond, nil)
	if len(frames) != 500 {
		t.Fatalf("%d frames in 10 s, want 500", len(frames))
	}
	st := RTPStream{SSRC: 5, PT: PTOpus}
	var buf [MaxPacket]byte
	prevSpeaking := false
	for i := range frames {
		f := &frames[i]
		speaking := tk.Speaking(1, f.Time)
		if f.Voice != speaking || f.Marker != (speaking && !prevSpeaking) || (f.Level == LevelSilence) == speaking {
			t.Errorf("frame %d at %v: %+v, speaking %v", i, f.Time, f, speaking)
		}
		prevSpeaking = speaking
		l, off := WriteOpus(buf[:], &st, f, 7)
		SetTransportSeq(buf[:l], off, uint16(i))
		var p rtp.Packet
		if r := p.Parse(buf[:l]); r != rtp.DropNone {
			t.Fatal(r)
		}
		lvl := p.Extension(ExtAudioLevel)
		if len(lvl) != 1 || lvl[0]&0x7f != f.Level || (lvl[0]&0x80 != 0) != f.Voice {
			t.Errorf("level ext %x for %+v", lvl, f)
		}
		if tw := p.Extension(ExtTransportCC); binary.BigEndian.Uint16(tw) != uint16(i) {
			t.Errorf("transport-cc %x", tw)
		}
		if p.Timestamp()-frames[0].Timestamp != uint32(960*i) {
			t.Errorf("timestamp step at %d", i)
		}
	}
}

// TestTalker: at most two members speak at once, everybody gets turns, and a single member (a
// lecture) speaks throughout.
func TestTalker(t *testing.T) {
	tk := NewTalker(TalkerConfig{Members: 10, Seed: 11}, 10*time.Minute)
	spoke := make([]bool, 10)
	twice := 0
	for at := time.Duration(0); at < 10*time.Minute; at += 100 * time.Millisecond {
		n := 0
		for m := 0; m < 10; m++ {
			if tk.Speaking(m, at) {
				n++
				spoke[m] = true
			}
		}
		if n < 1 || n > 2 {
			t.Fatalf("%d speakers at %v", n, at)
		}
		if n == 2 {
			twice++
		}
	}
	for m, s := range spoke {
		if !s {
			t.Errorf("member %d never spoke in 10 minutes", m)
		}
	}
	if twice == 0 {
		t.Error("never two speakers at once")
	}
	lec := NewTalker(TalkerConfig{Members: 1}, time.Minute)
	if !lec.Speaking(0, 0) || !lec.Speaking(0, 59*time.Second) || !lec.Speaking(0, 61*time.Second) {
		t.Error("lecturer not speaking throughout")
	}
}

func TestStampRoundTrip(t *testing.T) {
	s := Stamp{Sender: 0xdeadbeef, Stream: 3, Flags: FlagKeyframe, Frame: 77, SentNs: 1_700_000_000_123_456_789}
	b := make([]byte, 40)
	if !s.Put(b) {
		t.Fatal("Put failed")
	}
	PutSentNs(b, s.SentNs+5)
	s.SentNs += 5
	got, ok := ParseStamp(b)
	if !ok || got != s {
		t.Errorf("got %+v %v, want %+v", got, ok, s)
	}
	if _, ok := ParseStamp(b[:StampLen-1]); ok {
		t.Error("short payload accepted")
	}
	b[len(b)-StampLen] ^= 1
	if _, ok := ParseStamp(b); ok {
		t.Error("bad magic accepted")
	}
}

func FuzzParseStamp(f *testing.F) {
	b := make([]byte, 30)
	Stamp{Sender: 1, Stream: 2, Frame: 3, SentNs: 4}.Put(b)
	f.Add(b)
	f.Add([]byte{})
	f.Add(make([]byte, StampLen))
	f.Fuzz(func(t *testing.T, in []byte) {
		s, ok := ParseStamp(in)
		if !ok {
			return
		}
		out := make([]byte, len(in))
		s.Put(out)
		if back, ok := ParseStamp(out); !ok || back != s {
			t.Fatalf("round trip %+v -> %+v", s, back)
		}
	})
}

// TestChunk: a frame is split into contiguous shares that differ by at most one byte, the
// larger ones last, as libwebrtc's SplitAboutEqually does.
func TestChunk(t *testing.T) {
	type share struct{ off, l int }
	for _, tt := range []struct {
		size, n int
		want    []share
	}{
		{10, 3, []share{{0, 3}, {3, 3}, {6, 4}}},
		{11, 3, []share{{0, 3}, {3, 4}, {7, 4}}},
		{12, 3, []share{{0, 4}, {4, 4}, {8, 4}}},
		{5, 1, []share{{0, 5}}},
	} {
		var got []share
		for i := range tt.n {
			off, l := chunk(tt.size, i, tt.n)
			got = append(got, share{off, l})
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("chunk(%d, ·, %d) = %v, want %v", tt.size, tt.n, got, tt.want)
		}
	}
}
