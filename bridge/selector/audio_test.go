package selector

import (
	"reflect"
	"testing"
)

// ap is an Opus packet (20 ms, 960 ticks) with extended sequence number
// 65536+seq and an RFC 6464 level (-1: no extension).
func ap(seq uint64, level int) PacketInfo {
	p := PacketInfo{ExtSeq: 1<<16 + seq, ExtTS: 1<<32 + seq*960, PayloadLen: 60}
	if level >= 0 {
		p.AudioLevel, p.HasAudioLevel = uint8(level), true
	}
	return p
}

func afwd(seq uint16, inSeq uint64) Decision {
	return Decision{Forward: true, Seq: seq, Timestamp: uint32(inSeq * 960)}
}

func TestDecideAudio(t *testing.T) {
	silence, muted := Decision{Reason: DropSilence}, Decision{Reason: DropForceMuted}
	tests := []struct {
		name    string
		keep    bool // silence discard off
		muteAt  int  // index of the first muted packet (-1: none)
		unmute  int  // index of the first unmuted packet again
		packets []PacketInfo
		want    []Decision
	}{
		{"unchanged", false, -1, -1,
			[]PacketInfo{ap(65534, 30), ap(65535, -1), ap(65536, 0), ap(65537, 126)},
			[]Decision{afwd(65534, 65534), afwd(65535, 65535), afwd(0, 65536), afwd(1, 65537)}},
		// Three consecutive silent packets pass, then silence is dropped and
		// the sequence numbers close over the hole.
		{"silence discard", false, -1, -1,
			[]PacketInfo{ap(10, 40), ap(11, 127), ap(12, 127), ap(13, 127), ap(14, 127), ap(15, 127), ap(16, 40), ap(17, 127)},
			[]Decision{afwd(10, 10), afwd(11, 11), afwd(12, 12), afwd(13, 13), silence, silence, afwd(14, 16), afwd(15, 17)}},
		// The V bit (0x80) is not part of the level.
		{"silence with voice bit", false, -1, -1,
			[]PacketInfo{ap(10, 127|0x80), ap(11, 127|0x80), ap(12, 127|0x80), ap(13, 127|0x80)},
			[]Decision{afwd(10, 10), afwd(11, 11), afwd(12, 12), silence}},
		{"silence kept when discard is off", true, -1, -1,
			[]PacketInfo{ap(10, 127), ap(11, 127), ap(12, 127), ap(13, 127), ap(14, 127)},
			[]Decision{afwd(10, 10), afwd(11, 11), afwd(12, 12), afwd(13, 13), afwd(14, 14)}},
		{"force mute", false, 1, 3,
			[]PacketInfo{ap(10, 40), ap(11, 40), ap(12, 40), ap(13, 40), ap(14, 40)},
			[]Decision{afwd(10, 10), muted, muted, afwd(11, 13), afwd(12, 14)}},
		// A late packet from before a run of dropped packets keeps its own
		// place; a duplicate and one from before the first are dropped.
		{"late packets", false, -1, -1,
			[]PacketInfo{ap(10, 40), ap(12, 127), ap(13, 127), ap(14, 127), ap(15, 127), ap(16, 40), ap(11, 40), ap(16, 40), ap(5, 40)},
			[]Decision{afwd(10, 10), afwd(12, 12), afwd(13, 13), afwd(14, 14), silence, afwd(15, 16), afwd(11, 11),
				{Reason: DropDuplicate}, {Reason: DropTooOld}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s AudioState
			s.SetDiscardSilence(!tt.keep)
			var got []Decision
			for i := range tt.packets {
				if i == tt.muteAt {
					s.SetForceMuted(true)
				}
				if i == tt.unmute {
					s.SetForceMuted(false)
				}
				got = append(got, DecideAudio(&s, &tt.packets[i]))
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got\n%+v\nwant\n%+v", got, tt.want)
			}
		})
	}
}

// TestAudioRestart: the source's sequence numbers jump back; the output
// continues after the last one sent.
func TestAudioRestart(t *testing.T) {
	var s AudioState
	var seqs []uint16
	for _, p := range []PacketInfo{ap(30000, 40), ap(30001, 40), ap(5, 40), ap(6, 40)} {
		p := p
		if p.ExtSeq < 1<<16+100 {
			p.ExtTS += 40000 * 960 // timestamps go on
		}
		if d := DecideAudio(&s, &p); d.Forward {
			seqs = append(seqs, d.Seq)
		}
	}
	if want := []uint16{30000, 30001, 30002, 30003}; !reflect.DeepEqual(seqs, want) {
		t.Fatalf("seqs %v, want %v", seqs, want)
	}
}
