package rtp

import (
	"bytes"
	"encoding/binary"
	"testing"

	pionrtp "github.com/pion/rtp"
	"github.com/pion/rtp/codecs"
)

func rtpSeeds() [][]byte {
	return [][]byte{
		buildRTP(rtpSpec{pt: 111, seq: 7, ts: 960, ssrc: 1, payload: []byte("op")}),
		buildRTP(rtpSpec{marker: true, pt: 100, csrc: []uint32{9}, padding: 4, payload: []byte("abc")}),
		buildRTP(rtpSpec{pt: 96, ext: true, profile: 0xBEDE, extBlock: []byte{0x10, 0xaa, 0x00, 0x51, 0x01, 0x02, 0xf0}, payload: []byte{1}}),
		buildRTP(rtpSpec{pt: 41, ext: true, profile: 0x1000, extBlock: []byte{0x20, 0x00, 0x00, 0xff, 0x02, 0x01, 0x02}, payload: []byte{1}}),
		buildRTP(rtpSpec{pt: 41, ext: true, profile: 0x1234, extBlock: []byte{1, 2, 3, 4}}),
		buildRTP(rtpSpec{pt: 100, padding: 255}),
	}
}

func FuzzClassify(f *testing.F) {
	for _, s := range rtpSeeds() {
		f.Add(s)
	}
	f.Add(AppendPLI(nil, 1, 2))
	f.Add(make([]byte, 20))
	f.Add([]byte{22, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		k := Classify(b)
		var want Kind
		switch {
		case len(b) == 0:
		case b[0] <= 3 && len(b) >= 20:
			want = KindSTUN
		case b[0] >= 20 && b[0] <= 63 && len(b) >= 13:
			want = KindDTLS
		case b[0] >= 128 && b[0] <= 191 && len(b) >= 8 && b[1] >= 192 && b[1] <= 223:
			want = KindRTCP
		case b[0] >= 128 && b[0] <= 191 && len(b) >= 12 && (b[1] < 192 || b[1] > 223):
			want = KindRTP
		}
		if k != want {
			t.Fatalf("Classify(%x) = %v, want %v", b, k, want)
		}
	})
}

// FuzzRTPParse checks that Parse never panics and agrees with pion/rtp, that
// setters never panic, and that RewriteExtensions output round-trips through
// pion's Unmarshal with exactly the expected elements.
func FuzzRTPParse(f *testing.F) {
	for _, s := range rtpSeeds() {
		f.Add(s, uint64(0b100010), uint8(0), uint8(0))
		f.Add(s, uint64(0xffff), uint8(17), uint8(3))
		f.Add(s, uint64(0), uint8(200), uint8(16))
	}
	f.Fuzz(func(t *testing.T, b []byte, keepBits uint64, addID, addLen uint8) {
		var p Packet
		r := p.Parse(b)
		comparePion(t, b, &p, r)
		if r != DropNone {
			return
		}
		c := append([]byte(nil), b...)
		var q Packet
		q.Parse(c)
		q.SetSeq(1)
		q.SetTimestamp(2)
		q.SetSSRC(3)
		q.SetPayloadType(4)
		q.SetMarker(true)
		q.SetExtension(addID, make([]byte, addLen))
		if q.Seq() != 1 || q.Timestamp() != 2 || q.SSRC() != 3 || q.PayloadType() != 4 || !q.Marker() {
			t.Fatalf("setters: %+v", viewOf(&q))
		}

		keep := ExtSet{keepBits, keepBits >> 7, 0, keepBits}
		add := []Ext{{5, []byte{0xab, 0xcd}}}
		if addID != 0 {
			add = append(add, Ext{addID, bytes.Repeat([]byte{addLen}, int(addLen%40))})
		}
		checkRewrite(t, &p, keep, add)
	})
}

// comparePion checks Parse against pion/rtp's Unmarshal. pion does not check
// the version, and reads a two-byte profile with nonzero appbits
// (0x1001..0x100f) as an opaque block; those inputs are compared only in part.
func comparePion(t *testing.T, b []byte, p *Packet, r DropReason) {
	if len(b) > 0 && b[0]>>6 != 2 {
		if r != DropBadVersion && r != DropTooShort {
			t.Fatalf("version %d accepted: %v", b[0]>>6, r)
		}
		return
	}
	if len(b) >= rtpFixedLen && b[0]&bitExtension != 0 {
		if off := rtpFixedLen + 4*int(b[0]&maskCC); len(b) >= off+4 {
			if prof := binary.BigEndian.Uint16(b[off:]); prof&0xfff0 == ProfileTwoByte && prof != ProfileTwoByte {
				return
			}
		}
	}
	var pp pionrtp.Packet
	err := pp.Unmarshal(b)
	if (r == DropNone) != (err == nil) {
		t.Fatalf("Parse %v, pion %v for %x", r, err, b)
	}
	if r != DropNone {
		return
	}
	got := viewOf(p)
	want := rtpView{Version: 2, PT: pp.PayloadType, Padding: pp.Padding, Ext: pp.Extension, Marker: pp.Marker, CC: len(pp.CSRC),
		Seq: pp.SequenceNumber, TS: pp.Timestamp, SSRC: pp.SSRC, HdrLen: len(b) - len(pp.Payload) - int(pp.PaddingSize),
		PayloadLen: len(pp.Payload), PadLen: int(pp.PaddingSize), Payload: string(pp.Payload), Exts: got.Exts}
	if pp.Extension {
		want.Profile = pp.ExtensionProfile
	}
	if got != want {
		t.Fatalf("view differs from pion:\ngot  %+v\nwant %+v", got, want)
	}
	if extFormOf(p.ExtensionProfile()) == extOther {
		return // pion exposes the opaque block as one element with id 0
	}
	var ids []uint8
	for it := p.Extensions(); ; {
		id, _, ok := it.Next()
		if !ok {
			break
		}
		ids = append(ids, id)
		if !bytes.Equal(p.Extension(id), pp.GetExtension(id)) {
			t.Fatalf("Extension(%d) = %x, pion %x", id, p.Extension(id), pp.GetExtension(id))
		}
	}
	if !bytes.Equal(ids, pp.GetExtensionIDs()) {
		t.Fatalf("ids %v, pion %v", ids, pp.GetExtensionIDs())
	}
}

func checkRewrite(t *testing.T, p *Packet, keep ExtSet, add []Ext) {
	type elem struct {
		id   uint8
		data string
	}
	var added ExtSet
	for _, e := range add {
		added.Add(e.ID)
	}
	var want []elem
	for it := p.Extensions(); ; {
		id, data, ok := it.Next()
		if !ok {
			break
		}
		if keep.Has(id) && !added.Has(id) {
			want = append(want, elem{id, string(data)})
		}
	}
	for _, e := range add {
		want = append(want, elem{e.ID, string(e.Data)})
	}
	dst := make([]byte, p.Len()+4+3*len(want)+len(add)*256)
	n := p.RewriteExtensions(dst, keep, add...)
	if n == 0 {
		t.Fatal("RewriteExtensions wrote nothing")
	}
	var out Packet
	if r := out.Parse(dst[:n]); r != DropNone {
		t.Fatalf("rewrite output does not parse: %v", r)
	}
	var got []elem
	for it := out.Extensions(); ; {
		id, data, ok := it.Next()
		if !ok {
			break
		}
		got = append(got, elem{id, string(data)})
	}
	if len(got) != len(want) {
		t.Fatalf("elements %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("element %d: %v, want %v", i, got[i], want[i])
		}
	}
	var pp pionrtp.Packet
	if err := pp.Unmarshal(dst[:n]); err != nil {
		t.Fatalf("pion rejects rewrite: %v", err)
	}
	if !bytes.Equal(pp.Payload, p.Payload()) || int(pp.PaddingSize) != p.PaddingLen() || pp.SSRC != p.SSRC() {
		t.Fatal("pion sees another payload")
	}
	pionIDs := pp.GetExtensionIDs()
	if len(pionIDs) != len(want) {
		t.Fatalf("pion ids %v, want %v", pionIDs, want)
	}
	for i, e := range want {
		if pionIDs[i] != e.id {
			t.Fatalf("pion id %d = %d, want %d", i, pionIDs[i], e.id)
		}
	}
}

func FuzzRTCPIter(f *testing.F) {
	var compound []byte
	compound = AppendSR(compound, SenderInfo{SSRC: 1, NTPTime: 2}, ReportBlock{SSRC: 3})
	compound = AppendRR(compound, 1, ReportBlock{SSRC: 4, TotalLost: -1})
	compound = AppendPLI(compound, 1, 2)
	compound = AppendFIR(compound, 1, 2, 3)
	compound = AppendNACK(compound, 1, 2, []uint16{1, 2, 3, 40, 65535})
	compound = AppendREMB(compound, 1, 3_000_000, 5, 6)
	f.Add(compound)
	f.Add(twccSample)
	f.Add(append(append([]byte(nil), twccSample...), compound...))
	f.Fuzz(func(t *testing.T, b []byte) {
		walkAll(b)
		it := NewRTCPIter(b)
		for _, pkt, ok := it.Next(); ok; _, pkt, ok = it.Next() {
			n, r := ParseNACK(pkt)
			if r != DropNone {
				continue
			}
			// Re-packing the lost list asks for exactly the same packets.
			var want, got [1 << 16]bool
			var lost []uint16
			for l := n.Lost(); ; {
				s, ok := l.Next()
				if !ok {
					break
				}
				want[s] = true
				lost = append(lost, s)
			}
			n2, r := ParseNACK(AppendNACK(nil, n.SenderSSRC, n.MediaSSRC, lost))
			if r != DropNone {
				t.Fatalf("re-packed NACK: %v", r)
			}
			for l := n2.Lost(); ; {
				s, ok := l.Next()
				if !ok {
					break
				}
				got[s] = true
			}
			if got != want {
				t.Fatal("re-packed NACK asks for other packets")
			}
		}
	})
}

func FuzzVP8Descriptor(f *testing.F) {
	f.Add(cat([]byte{0x90, 0xe0, 0x81, 0x23, 0x07, 0x40}, vp8Key), uint16(0x7fff), uint8(1))
	f.Add(cat([]byte{0x90, 0xe0, 0x45, 0x09, 0xa0}, vp8Delta), uint16(5), uint8(200))
	f.Add(cat([]byte{0xa3, 0x10, 0x1f}, vp8Key), uint16(0xffff), uint8(0))
	f.Add(cat([]byte{0x10}, vp8Key), uint16(300), uint8(3))
	f.Fuzz(func(t *testing.T, b []byte, pid uint16, tl0 uint8) {
		var d VP8Descriptor
		r := d.Parse(b)
		var pp codecs.VP8Packet
		rest, err := pp.Unmarshal(b)
		if r == DropNone && (err != nil || len(b)-len(rest) != d.Len || pp.PictureID != d.PictureID || pp.TID != d.TID) {
			t.Fatalf("pion disagrees: %v, len %d vs %d", err, len(b)-len(rest), d.Len)
		}
		if r != DropNone && err == nil && len(rest) != 0 {
			t.Fatalf("Parse %v but pion accepts with %d bytes of data", r, len(rest))
		}
		if r != DropNone {
			return
		}
		dst := make([]byte, len(b)+3)
		n := VP8RewriteInto(dst, b, pid, tl0)
		if n != len(b)+d.RewrittenLen()-d.Len {
			t.Fatalf("RewriteInto = %d", n)
		}
		var back VP8Descriptor
		if r := back.Parse(dst[:n]); r != DropNone {
			t.Fatalf("re-parse: %v", r)
		}
		if back.PictureID != pid&0x7fff || back.PictureIDLen != 2 || (d.L && back.TL0PICIDX != tl0) || back.L != d.L {
			t.Fatalf("re-parse %+v after writing %d/%d", back, pid, tl0)
		}
		if back.S != d.S || back.N != d.N || back.PartID != d.PartID || back.T != d.T || back.TID != d.TID || back.Y != d.Y ||
			back.K != d.K || back.KEYIDX != d.KEYIDX || back.Keyframe != d.Keyframe || back.Width != d.Width || back.Height != d.Height ||
			!bytes.Equal(dst[back.Len:n], b[d.Len:]) {
			t.Fatalf("rewrite changed other fields: %+v -> %+v", d, back)
		}
		inPlace := append([]byte(nil), b...)
		if d.RewriteInPlace(inPlace, pid, tl0) {
			var again VP8Descriptor
			if again.Parse(inPlace) != DropNone || again != back || again != d {
				t.Fatalf("in place %+v, into %+v, d %+v", again, back, d)
			}
		} else if d.PictureIDLen == 2 {
			t.Fatal("RewriteInPlace refused a 15-bit picture ID")
		}
	})
}
