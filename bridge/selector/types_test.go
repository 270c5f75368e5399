package selector

import (
	"reflect"
	"testing"

	"github.com/cityjitsi/videobridge/bridge/rtp"
)

// TestSetVP8 fills PacketInfo from a descriptor parsed by bridge/rtp.
func TestSetVP8(t *testing.T) {
	tests := []struct {
		name    string
		payload []byte
		want    PacketInfo
	}{
		{"keyframe, all fields", []byte{
			0x90, 0xe0, 0x80 | 0x12, 0x34, 0x07, 2<<6 | 0x20, // X S; I L T; M pic; TL0; TID Y
			0x00, 0x00, 0x00, 0x9d, 0x01, 0x2a, 0x80, 0x02, 0x68, 0x01, // key header 640x360
		}, PacketInfo{Keyframe: true, KeyframeKnown: true, StartOfFrame: true, VP8: VP8Info{
			HasPictureID: true, LongPictureID: true, PictureID: 0x1234, HasTL0PICIDX: true, TL0PICIDX: 7,
			HasTID: true, TID: 2, LayerSync: true}}},
		{"middle packet, 7-bit picture ID", []byte{0x80, 0x80, 0x45, 0xaa}, PacketInfo{KeyframeKnown: true,
			VP8: VP8Info{HasPictureID: true, PictureID: 0x45}}},
		{"no extensions", []byte{0x10, 0x01, 0xaa}, PacketInfo{KeyframeKnown: true, StartOfFrame: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var d rtp.VP8Descriptor
			if r := d.Parse(tt.payload); r != rtp.DropNone {
				t.Fatalf("parse: %v", r)
			}
			var p PacketInfo
			p.SetVP8(&d)
			if !reflect.DeepEqual(p, tt.want) {
				t.Fatalf("got %+v\nwant %+v", p, tt.want)
			}
		})
	}
}

func TestFrameRing(t *testing.T) {
	var r frameRing
	if i, ok := r.find(5); i != 0 || ok {
		t.Fatalf("empty find: %d %v", i, ok)
	}
	for i := range maxFrames + 3 { // ts 0, 10, 20, ...; the first 3 fall out
		r.push(frame{ts: uint64(i) * 10})
	}
	tsOf := func() []uint64 {
		var out []uint64
		for i := range r.len() {
			out = append(out, r.at(i).ts)
		}
		return out
	}
	if got := tsOf(); got[0] != 30 || len(got) != maxFrames || got[maxFrames-1] != 180 {
		t.Fatalf("after pushes: %v", got)
	}
	if i, ok := r.find(35); i != 1 || ok {
		t.Fatalf("find(35) = %d %v", i, ok)
	}
	if i, ok := r.find(100); i != 7 || !ok {
		t.Fatalf("find(100) = %d %v", i, ok)
	}
	if f := r.insert(1, frame{ts: 35}); f != nil {
		t.Fatalf("inserted as the oldest of a full ring")
	}
	if f := r.insert(5, frame{ts: 75}); f == nil || f.ts != 75 {
		t.Fatalf("insert(5) = %+v", f)
	}
	want := []uint64{40, 50, 60, 70, 75, 80, 90, 100, 110, 120, 130, 140, 150, 160, 170, 180}
	if got := tsOf(); !reflect.DeepEqual(got, want) {
		t.Fatalf("after insert: %v", got)
	}
	r.reset()
	r.push(frame{ts: 1})
	r.push(frame{ts: 3})
	r.insert(1, frame{ts: 2})
	if got := tsOf(); !reflect.DeepEqual(got, []uint64{1, 2, 3}) {
		t.Fatalf("insert into a small ring: %v", got)
	}
}

// TestVP8WithoutLayerInfo: VP8 without picture IDs or temporal layers
// (normally sent to the generic scheme) is all TL0, and picture IDs are
// made up, one per frame.
func TestVP8WithoutLayerInfo(t *testing.T) {
	s := newSim()
	var pkts []PacketInfo
	for i := range 6 {
		f := s.frame(0, i == 0, 2)
		for j := range f {
			f[j].VP8 = VP8Info{}
		}
		pkts = append(pkts, f...)
	}
	var st VP8State
	if st.Target() != Suspended || st.Current() != -1 {
		t.Fatalf("zero state: %+v %d", st.Target(), st.Current())
	}
	st.SetTarget(Layer{0, 0})
	var pics, seqs []uint16
	for _, r := range feedVP8(&st, pkts) {
		if !r.d.Forward {
			t.Fatalf("dropped %+v", r.d)
		}
		pics = append(pics, r.d.PictureID)
		seqs = append(seqs, r.d.Seq)
	}
	if want := []uint16{0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5}; !reflect.DeepEqual(pics, want) {
		t.Fatalf("pictures %v", pics)
	}
	if want := []uint16{100, 101, 102, 103, 104, 105, 106, 107, 108, 109, 110, 111}; !reflect.DeepEqual(seqs, want) {
		t.Fatalf("seqs %v", seqs)
	}
	var g GenericState
	if g.Target() != Suspended {
		t.Fatalf("generic zero target %+v", g.Target())
	}
	g.ContinueFrom(RTPState{})
	if g.RTPState().Valid {
		t.Fatalf("continued from nothing")
	}
}
