package client

import (
	"testing"

	"github.com/cityjitsi/videobridge/bench/traffic"
	"github.com/cityjitsi/videobridge/bridge/rtp"
)

func TestParseClearHeader(t *testing.T) {
	video := make([]byte, traffic.MaxPacket)
	f := traffic.Frame{Timestamp: 0xdeadbeef, Size: 500, Keyframe: true, Width: 320, Height: 180}
	st := traffic.RTPStream{SSRC: 0x01020304, PT: traffic.PTVP8, Seq: 65535}
	n, off := traffic.WriteVP8(video, &st, &f, 0, 1, 1)
	traffic.SetTransportSeq(video[:n], off, 4242)
	twoByte := []byte{0x90, 100, 0, 7, 0, 0, 0, 9, 0, 0, 0, 5, 0x10, 0x00, 0, 2, 5, 2, 0x12, 0x34, 0, 0, 0, 0, 0xAA}
	csrc := []byte{0x81, 0x6f, 0, 1, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0xAA}
	for _, tc := range []struct {
		name string
		in   []byte
		want clearHeader
		ok   bool
	}{
		{"our video packet", video[:n], clearHeader{marker: true, pt: 100, seq: 65535, ts: 0xdeadbeef, ssrc: 0x01020304, twcc: 4242, hasTWCC: true}, true},
		{"two-byte extensions", twoByte, clearHeader{pt: 100, seq: 7, ts: 9, ssrc: 5, twcc: 0x1234, hasTWCC: true}, true},
		{"csrc, no extension", csrc, clearHeader{marker: false, pt: 111, seq: 1, ts: 1, ssrc: 2}, true},
		{"short", video[:11], clearHeader{}, false},
		{"version 1", append([]byte{0x50}, video[1:n]...), clearHeader{}, false},
		{"extension past end", video[:14], clearHeader{marker: true, pt: 100, seq: 65535, ts: 0xdeadbeef, ssrc: 0x01020304}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := parseClearHeader(tc.in, traffic.ExtTransportCC)
			if ok != tc.ok || (ok && got != tc.want) {
				t.Errorf("got %+v %v, want %+v %v", got, ok, tc.want, tc.ok)
			}
		})
	}
}

// FuzzParseClearHeader: never panics, and agrees with the bridge's strict parser on every
// packet that parser accepts.
func FuzzParseClearHeader(f *testing.F) {
	buf := make([]byte, traffic.MaxPacket)
	af := traffic.AudioFrame{Size: 80, Level: 30, Voice: true}
	st := traffic.RTPStream{SSRC: 9, PT: traffic.PTOpus}
	n, off := traffic.WriteOpus(buf, &st, &af, 3)
	traffic.SetTransportSeq(buf[:n], off, 77)
	f.Add(buf[:n])
	f.Add([]byte{0x90, 100, 0, 7, 0, 0, 0, 9, 0, 0, 0, 5, 0x10, 0x00, 0, 2, 5, 2, 0x12, 0x34, 0, 0, 0, 0, 0xAA})
	f.Add([]byte{0x80, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		h, ok := parseClearHeader(b, traffic.ExtTransportCC)
		var p rtp.Packet
		if p.Parse(b) != rtp.DropNone {
			return
		}
		if !ok || h.seq != p.Seq() || h.ssrc != p.SSRC() || h.ts != p.Timestamp() || h.pt != p.PayloadType() || h.marker != p.Marker() {
			t.Fatalf("clear header %+v %v disagrees with rtp.Packet", h, ok)
		}
		if ext := p.Extension(traffic.ExtTransportCC); len(ext) == 2 && (!h.hasTWCC || h.twcc != uint16(ext[0])<<8|uint16(ext[1])) {
			t.Fatalf("transport-cc %x vs %+v", ext, h)
		}
	})
}
