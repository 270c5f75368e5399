package client

import (
	"context"
	"testing"
	"time"

	"github.com/cityjitsi/videobridge/bench/internal/loopsfu"
	"github.com/cityjitsi/videobridge/bench/traffic"
	"github.com/cityjitsi/videobridge/bridge/transport/dtls"
	"github.com/cityjitsi/videobridge/bridge/transport/endpoint"
	"github.com/cityjitsi/videobridge/bridge/transport/ice"
)

const waitLimit = 20 * time.Second

type rig struct {
	t    *testing.T
	sfu  *loopsfu.SFU
	reg  *Registry
	cert *dtls.Certificate
}

func newRig(t *testing.T) *rig {
	t.Helper()
	sfu, err := loopsfu.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sfu.Close)
	cert, err := dtls.NewCertificate()
	if err != nil {
		t.Fatal(err)
	}
	return &rig{t: t, sfu: sfu, reg: NewRegistry(), cert: cert}
}

// join connects one client the way the harness does: allocate, accept with our transport,
// ICE and DTLS.
func (r *rig) join(idx uint32, cfg Config) *Client {
	r.t.Helper()
	id := "ep" + string(rune('a'+idx))
	cfg.Index, cfg.Certificate, cfg.Registry, cfg.Seed = idx, r.cert, r.reg, uint64(idx)+1
	var forward []uint32
	if cfg.Send != nil {
		cfg.Send.SSRCs = SSRCsFor(1000 * (idx + 1))
		r.reg.Add(cfg.Send.SSRCs.Origins(idx, !cfg.Send.NoVideo))
		forward = []uint32{cfg.Send.SSRCs.Audio, cfg.Send.SSRCs.Video[0]}
	}
	c, err := New(cfg)
	if err != nil {
		r.t.Fatal(err)
	}
	r.t.Cleanup(c.Close)
	local, err := r.sfu.Allocate("conf", id)
	if err != nil {
		r.t.Fatal(err)
	}
	creds := c.Credentials()
	if err := r.sfu.Accept("conf", id, endpoint.Remote{Ufrag: creds.Ufrag, Pwd: creds.Pwd,
		Fingerprints: map[string][]string{"sha-256": {c.Fingerprint()}},
		Candidates:   []ice.Candidate{c.Candidate()}}, forward); err != nil {
		r.t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	jt, err := c.Connect(ctx, Remote{Ufrag: local.Ufrag, Pwd: local.Pwd,
		Fingerprints: map[string][]string{"sha-256": {local.Fingerprint}}, Candidates: local.Candidates})
	if err != nil {
		r.t.Fatalf("connect %s: %v", id, err)
	}
	if jt.ICE <= 0 || jt.DTLS <= 0 {
		r.t.Errorf("join times %+v", jt)
	}
	if err := c.Start(); err != nil {
		r.t.Fatal(err)
	}
	return c
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func lecturer() *SendConfig {
	return &SendConfig{Talker: traffic.NewTalker(traffic.TalkerConfig{Members: 1}, time.Minute), Member: 0}
}

// TestMediaThroughForwarder: one sender, two receivers through the loopback SFU. Receivers
// count audio and video by clear header, decrypt and verify a sample (no decrypt or verify
// errors), measure latency, see no loss, and know the origin and layer of what they got.
func TestMediaThroughForwarder(t *testing.T) {
	r := newRig(t)
	snd := r.join(0, Config{Send: lecturer()})
	rcv := []*Client{r.join(1, Config{SampleEvery: 5}), r.join(2, Config{SampleEvery: 5})}
	var iv Interval
	for _, c := range rcv {
		waitUntil(t, "video and audio at a receiver", func() bool {
			tot := c.counter.load()
			return tot.VideoRecv > 100 && tot.AudioRecv > 50 && tot.Sampled > 20
		})
	}
	for _, c := range rcv {
		c.Snapshot(&iv)
		if iv.DecryptErrors != 0 || iv.VerifyErrors != 0 || iv.Malformed != 0 {
			t.Errorf("receiver %d: decrypt %d verify %d malformed %d", c.cfg.Index, iv.DecryptErrors, iv.VerifyErrors, iv.Malformed)
		}
		if iv.VideoLatency.Count() == 0 || iv.AudioLatency.Count() == 0 {
			t.Errorf("receiver %d: no latency samples (%d video, %d audio)", c.cfg.Index, iv.VideoLatency.Count(), iv.AudioLatency.Count())
		}
		if iv.Expected == 0 || iv.Received != iv.Expected {
			t.Errorf("receiver %d: received %d of %d", c.cfg.Index, iv.Received, iv.Expected)
		}
		for _, s := range c.Streams() {
			if !s.Known || s.Sender != 0 {
				t.Errorf("stream %d: origin %+v", s.SSRC, s)
			}
			if s.Kind == KindVideo && (s.Layers[0] == 0 || s.Layers[1]+s.Layers[2] != 0) {
				t.Errorf("video layers %v, want only encoding 0 (what the forwarder sends)", s.Layers)
			}
		}
	}
	snd.Snapshot(&iv)
	if iv.RTPSent == 0 || iv.KeyframesSent < 3 || iv.RTCPRecv != 0 && iv.DecryptErrors != 0 {
		t.Errorf("sender totals %+v", iv.Totals)
	}
}

// TestInducedLossNACKsAndPLI: with 10 % induced loss at the receiver, it NACKs; the forwarder
// keeps no history, so repairs fail, the receiver asks for a keyframe, and the PLI reaches the
// sender, which produces one.
func TestInducedLossNACKsAndPLI(t *testing.T) {
	r := newRig(t)
	snd := r.join(0, Config{Send: lecturer()})
	rcv := r.join(1, Config{RecvLoss: 0.1})
	waitUntil(t, "NACKs, a PLI and a requested keyframe", func() bool {
		rt, st := rcv.counter.load(), snd.counter.load()
		return rt.NACKSent > 0 && rt.PLISent > 0 && st.PLIRecv > 0
	})
	var iv Interval
	rcv.Snapshot(&iv)
	if iv.InducedRecvLoss == 0 || iv.Received >= iv.Expected {
		t.Errorf("induced loss %d, received %d of %d", iv.InducedRecvLoss, iv.Received, iv.Expected)
	}
}

// TestNACKAnsweredWithRTX: NACKs from the bridge for our video are answered with RTX from the
// history; numbers the history no longer holds are counted as misses.
func TestNACKAnsweredWithRTX(t *testing.T) {
	r := newRig(t)
	snd := r.join(0, Config{Send: lecturer()})
	r.join(1, Config{})
	waitUntil(t, "some video sent", func() bool { return snd.counter.load().RTPSent > 200 })
	// Play the bridge: NACK two recent numbers of the first encoding and one long gone.
	hi := uint16(snd.videoSeq[0].Load())
	req := nackReq{enc: 0, n: 3}
	req.seqs[0], req.seqs[1], req.seqs[2] = hi-3, hi-2, hi-3*rtxHistory
	snd.ctl.nacks <- req
	waitUntil(t, "RTX answers", func() bool {
		tot := snd.counter.load()
		return tot.RTXSent >= 2 && tot.RTXMissed >= 1
	})
}

// TestDataChannel: SCTP over the DTLS connection, the bridge channel opened as lib-jitsi-meet
// opens it and acknowledged, messages both ways.
func TestDataChannel(t *testing.T) {
	r := newRig(t)
	c := r.join(0, Config{})
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	d, err := c.OpenDataChannel(ctx)
	if err != nil || d <= 0 {
		t.Fatalf("open: %v %v", d, err)
	}
	msg := `{"colibriClass":"ReceiverVideoConstraints","lastN":-1}`
	if err := c.SendMessage([]byte(msg)); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the message at the bridge and its hello at the client", func() bool {
		got := r.sfu.Messages("epa")
		return len(got) == 1 && got[0] == msg && c.ChannelMessages() >= 1
	})
	fresh := r.join(1, Config{})
	if err := fresh.SendMessage([]byte(msg)); err != ErrNoDataChannel {
		t.Errorf("send without a channel: %v", err)
	}
}

// TestDataChannelUnanswered: a bridge that does not serve SCTP makes the attempt time out, and
// giving up must leave DTLS and ICE running (pion closes the association's conn: closing the
// DTLS connection would take the ICE agent down and the bridge would expire the endpoint).
func TestDataChannelUnanswered(t *testing.T) {
	r := newRig(t)
	r.sfu.NoSCTP.Store(true)
	c := r.join(0, Config{Send: lecturer()})
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if _, err := c.OpenDataChannel(ctx); err == nil {
		t.Fatal("data channel opened without an SCTP peer")
	}
	time.Sleep(100 * time.Millisecond) // pion closes the abandoned association in the background
	if _, err := c.agent.GetLocalCandidates(); err != nil {
		t.Errorf("ICE agent closed by the abandoned association: %v", err)
	}
	if _, ok := c.dtlsConn.ConnectionState(); !ok {
		t.Error("DTLS connection closed by the abandoned association")
	}
	before := c.counter.load().RTPSent
	waitUntil(t, "media still flowing", func() bool { return c.counter.load().RTPSent > before+50 })
}

// TestInjectedDelayAndSendLoss: the delay line holds every packet back (the stamp is taken
// before it, so receivers see at least the delay) and send loss drops packets after they got
// their transport-wide number (receivers see the gaps).
func TestInjectedDelayAndSendLoss(t *testing.T) {
	r := newRig(t)
	r.join(0, Config{Send: lecturer(), SendDelay: 60 * time.Millisecond, SendLoss: 0.05})
	rcv := r.join(1, Config{SampleEvery: 1})
	waitUntil(t, "delayed media", func() bool { return rcv.counter.load().VideoRecv > 60 })
	var iv Interval
	rcv.Snapshot(&iv)
	if min := iv.VideoLatency.Quantile(0); min < 60*time.Millisecond {
		t.Errorf("fastest video packet took %v, want ≥ the 60 ms injected", min)
	}
	if iv.Received >= iv.Expected {
		t.Errorf("received %d of %d despite 5 %% send loss", iv.Received, iv.Expected)
	}
}
