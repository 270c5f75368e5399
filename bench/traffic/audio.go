package traffic

import (
	"math/rand/v2"
	"sort"
	"time"
)

// Opus model: 20 ms frames (Chrome's default ptime), 50 packets/s.
const (
	OpusFrame = 20 * time.Millisecond
	// opusSpeech is the Opus data size range of a voiced frame: about 28-40 kbps, Chrome's
	// usual rate for mono voice.
	opusSpeechMin, opusSpeechMax = 70, 100
	// opusSilence is a frame of a muted or silent microphone without DTX.
	opusSilence = 6
	// LevelSilence is RFC 6464's -127 dBov: the bridge discards these after a few packets
	// (media.md §2.8).
	LevelSilence uint8 = 127
)

// TalkerConfig configures a conference's talker model.
type TalkerConfig struct {
	Members int
	// MinTurn and MaxTurn bound a speaking turn (defaults 2 s and 8 s).
	MinTurn, MaxTurn time.Duration
	// Interjection is the probability that a second member speaks for a while during a turn
	// (default 0.3), so at most two speak at a time.
	Interjection float64
	Seed         uint64
}

type turn struct {
	start, end   time.Duration
	speaker      int
	iStart, iEnd time.Duration // interjection, empty when iSpeaker < 0
	iSpeaker     int
}

// Talker says who speaks when. It is immutable after NewTalker and safe for concurrent use.
// The schedule repeats after its horizon.
type Talker struct {
	turns   []turn
	horizon time.Duration
	members int
}

// NewTalker precomputes the schedule up to horizon.
func NewTalker(cfg TalkerConfig, horizon time.Duration) *Talker {
	if cfg.MinTurn <= 0 {
		cfg.MinTurn = 2 * time.Second
	}
	if cfg.MaxTurn < cfg.MinTurn {
		cfg.MaxTurn = max(cfg.MinTurn, 8*time.Second)
	}
	if cfg.Interjection == 0 {
		cfg.Interjection = 0.3
	}
	if horizon <= 0 {
		horizon = time.Hour
	}
	t := &Talker{horizon: horizon, members: cfg.Members}
	if cfg.Members <= 1 {
		// A lecture: the only member speaks throughout.
		t.turns = []turn{{start: 0, end: horizon, speaker: 0, iSpeaker: -1}}
		return t
	}
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x5851f42d4c957f2d))
	prev := -1
	for c := time.Duration(0); c < horizon; {
		d := cfg.MinTurn + time.Duration(rng.Int64N(int64(cfg.MaxTurn-cfg.MinTurn)+1))
		s := rng.IntN(cfg.Members)
		if s == prev {
			s = (s + 1) % cfg.Members
		}
		tr := turn{start: c, end: c + d, speaker: s, iSpeaker: -1}
		if rng.Float64() < cfg.Interjection {
			other := (s + 1 + rng.IntN(cfg.Members-1)) % cfg.Members
			st := c + time.Duration(rng.Int64N(int64(d/2)+1))
			l := 500*time.Millisecond + time.Duration(rng.Int64N(int64(1500*time.Millisecond)))
			tr.iSpeaker, tr.iStart, tr.iEnd = other, st, min(st+l, tr.end)
		}
		t.turns = append(t.turns, tr)
		prev = s
		c += d
	}
	return t
}

// Speaking reports whether member speaks at time at.
func (t *Talker) Speaking(member int, at time.Duration) bool {
	if at < 0 {
		return false
	}
	at %= t.horizon
	i := sort.Search(len(t.turns), func(i int) bool { return t.turns[i].end > at })
	if i == len(t.turns) {
		return false
	}
	tr := t.turns[i]
	return tr.speaker == member || (tr.iSpeaker == member && at >= tr.iStart && at < tr.iEnd)
}

// AudioFrame is one Opus frame.
type AudioFrame struct {
	Number    uint32
	Time      time.Duration
	Timestamp uint32 // 48 kHz
	Level     uint8  // RFC 6464 -dBov, 127 silent
	Voice     bool   // RFC 6464 V flag
	Marker    bool   // first packet of a talkspurt (RFC 3551 §4.1)
	Size      int    // Opus data bytes
}

// Audio is one member's Opus source. It is owned by one goroutine.
type Audio struct {
	talker   *Talker
	member   int
	rng      *rand.Rand
	number   uint32
	tsBase   uint32
	level    int
	speaking bool
}

// NewAudio returns member's source in a conference following talker.
func NewAudio(talker *Talker, member int, seed uint64) *Audio {
	rng := rand.New(rand.NewPCG(seed, 0x2545f4914f6cdd1d))
	return &Audio{talker: talker, member: member, rng: rng, tsBase: rng.Uint32(), level: 30}
}

// Due appends every frame captured at or before now.
func (a *Audio) Due(now time.Duration, out []AudioFrame) []AudioFrame {
	for {
		at := time.Duration(a.number) * OpusFrame
		if at > now {
			return out
		}
		out = append(out, a.next(at))
	}
}

func (a *Audio) next(at time.Duration) AudioFrame {
	speaking := a.talker.Speaking(a.member, at)
	f := AudioFrame{Number: a.number, Time: at, Timestamp: rtpTimestamp(a.tsBase, at, ClockAudio)}
	if speaking {
		// A voice's level wanders between about -20 and -45 dBov.
		a.level = min(45, max(20, a.level+a.rng.IntN(7)-3))
		f.Level, f.Voice = uint8(a.level), true
		f.Size = opusSpeechMin + a.rng.IntN(opusSpeechMax-opusSpeechMin+1)
		f.Marker = !a.speaking
	} else {
		f.Level, f.Size = LevelSilence, opusSilence
	}
	a.speaking = speaking
	a.number++
	return f
}

// OpusPacketLen is the packet length WriteOpus produces for f.
func OpusPacketLen(f *AudioFrame) int { return HeaderLen + f.Size + StampLen }

// WriteOpus writes f on stream st into dst (MaxPacket bytes) and advances st.Seq.
func WriteOpus(dst []byte, st *RTPStream, f *AudioFrame, sender uint32) (int, Offsets) {
	writeFixed(dst, f.Marker, st.PT, st.Seq, f.Timestamp, st.SSRC)
	st.Seq++
	o := writeAudioExt(dst, f.Level, f.Voice)
	n := OpusPacketLen(f)
	p := dst[HeaderLen:n]
	clear(p[:f.Size])
	if f.Size > 0 {
		p[0] = 0x78 // TOC: SILK-only wideband 20 ms, mono, one frame (RFC 6716 §3.1)
	}
	Stamp{Sender: sender, Stream: StreamAudio, Frame: f.Number}.Put(p)
	return n, o
}
