package integration

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	piondtls "github.com/pion/dtls/v3"
	pionrtp "github.com/pion/rtp"
	"github.com/pion/webrtc/v4"

	"github.com/cityjitsi/videobridge/bridge/rtp"
	"github.com/cityjitsi/videobridge/colibri/colibri2"
	"github.com/cityjitsi/videobridge/integration/focus"
)

// The bridge channel as lib-jitsi-meet opens it (media.md §1.1).
const (
	ljmDataChannelLabel    = "JVB data channel"
	ljmDataChannelProtocol = "http://jitsi.org/protocols/colibri"
)

// chClient is a pion/webrtc participant (the client of media_test.go) with a bridge channel:
// the SCTP data channel when the bridge offered SCTP, else colibri-ws on the advertised URL.
// It records every bridge-channel message and the arrival time of every video packet, and
// sends audio levels that make it a speaker or keep it silent.
type chClient struct {
	*client
	sctp  bool
	wsURL string
	dc    *webrtc.DataChannel
	open  chan struct{} // closed when the data channel opens
	loud  atomic.Bool   // speak (audio levels with speech-like variation) or stay silent

	mu       sync.Mutex
	ws       *wsConn
	msgs     []bcMsg
	arrivals map[uint32][]arrival // video packets by SSRC
}

// bcMsg is one received bridge-channel message.
type bcMsg struct {
	at    time.Time
	class string
	raw   string
	m     map[string]any
}

// arrival is one received video packet: when, which encoding, and whether it was a keyframe.
type arrival struct {
	at  time.Time
	enc byte
	key bool
}

// wsConn is one colibri-ws connection of a client and how it ended.
type wsConn struct {
	c      *websocket.Conn
	done   chan struct{}
	status websocket.StatusCode // valid after done
	reason string
}

func newChClient(t *testing.T, id string, ice *colibri2.ICEUDPTransport, sctp bool) *chClient {
	c := newClient(t, id, ice, piondtls.SRTP_AEAD_AES_128_GCM)
	cc := &chClient{client: c, sctp: sctp, open: make(chan struct{}), arrivals: map[uint32][]arrival{}}
	c.pc.OnTrack(cc.onTrack) // replaces the media test's recorder: same records plus arrival times
	if !sctp {
		if len(ice.WebSockets) == 0 {
			t.Fatalf("%s: the allocation advertises no colibri-ws URL", id)
		}
		cc.wsURL = ice.WebSockets[0].URL
		return cc
	}
	ordered, proto := true, ljmDataChannelProtocol
	dc, err := c.pc.CreateDataChannel(ljmDataChannelLabel, &webrtc.DataChannelInit{Ordered: &ordered, Protocol: &proto})
	must(t, err)
	var once sync.Once
	dc.OnOpen(func() { once.Do(func() { close(cc.open) }) })
	dc.OnMessage(func(m webrtc.DataChannelMessage) {
		if m.IsString {
			cc.record(m.Data)
		}
	})
	cc.dc = dc
	return cc
}

// connectChClients allocates three endpoints as Jicofo does (SCTP requested or not), connects a
// client to each, starts their media and opens their bridge channels.
func connectChClients(t *testing.T, ctx context.Context, f *focus.Focus, meeting string, sctp bool) []*chClient {
	var cls []*chClient
	for i, id := range []string{"aaaa0001", "bbbb0002", "cccc0003"} {
		req := focus.AllocateRequest(meeting, roomJID, i == 0, id, "stats-"+id, sctp)
		req.Endpoints[0].Capabilities = []string{colibri2.CapSourceNames} // classic SSRC mode
		res, err := f.Do(ctx, debianNick, req)
		if err != nil {
			t.Fatalf("allocate %s: %v", id, err)
		}
		if got := res.Endpoints[0].Transport.SCTP != nil; got != sctp {
			t.Fatalf("%s: answer has SCTP %v, want %v", id, got, sctp)
		}
		cls = append(cls, newChClient(t, id, res.Endpoints[0].Transport.ICE, sctp))
	}
	for _, c := range cls {
		c.negotiate(c.offerWith(nil))
		if _, err := f.Do(ctx, debianNick, focus.AcceptRequest(meeting, c.id, "stats-"+c.id, c.ufrag, c.pwd,
			c.fingerprint, c.sources())); err != nil {
			t.Fatalf("accept %s: %v", c.id, err)
		}
	}
	for _, c := range cls {
		var others []*chClient
		for _, o := range cls {
			if o != c {
				others = append(others, o)
			}
		}
		c.negotiate(c.offerWith(others))
	}
	for _, c := range cls {
		c.waitConnected(ctx)
		go c.sendMedia(ctx)
		t.Cleanup(c.close)
	}
	for _, c := range cls {
		c.openChannel(t, ctx)
	}
	return cls
}

// offerWith is the client's Jingle offer (client.offer) plus, with SCTP, the data section
// lib-jitsi-meet builds from Jicofo's <content name="data">. It goes right after the client's
// own m-lines so that it keeps its position when others' m-lines are added.
func (c *chClient) offerWith(others []*chClient) string {
	var os []*client
	for _, o := range others {
		os = append(os, o.client)
	}
	sdp := c.client.offer(os)
	if !c.sctp {
		return sdp
	}
	ice := c.bridge
	data := strings.Join([]string{"application 9 UDP/DTLS/SCTP webrtc-datachannel", "c=IN IP4 0.0.0.0",
		"a=ice-ufrag:" + ice.Ufrag, "a=ice-pwd:" + ice.Pwd, "a=fingerprint:sha-256 " + ice.Fingerprints[0].Fingerprint,
		"a=setup:actpass", "a=mid:data", "a=sctp-port:5000", "a=max-message-size:262144"}, "\r\n")
	parts := strings.Split(sdp, "\r\nm=")
	out := strings.TrimSuffix(strings.Join(parts[:5], "\r\nm="), "\r\n") + "\r\nm=" + data
	if len(parts) > 5 {
		out += "\r\nm=" + strings.Join(parts[5:], "\r\nm=")
	} else {
		out += "\r\n"
	}
	return strings.Replace(out, "a=group:BUNDLE 0 1 2 3", "a=group:BUNDLE 0 1 2 3 data", 1)
}

// openChannel waits for the data channel, or dials the colibri-ws URL.
func (c *chClient) openChannel(t *testing.T, ctx context.Context) {
	if !c.sctp {
		c.dialWS(t)
		return
	}
	select {
	case <-c.open:
	case <-ctx.Done():
		t.Fatalf("%s: the data channel did not open", c.id)
	}
	if c.dc.Label() != ljmDataChannelLabel || c.dc.Protocol() != ljmDataChannelProtocol || !c.dc.Ordered() {
		t.Fatalf("%s: data channel %q %q ordered=%v", c.id, c.dc.Label(), c.dc.Protocol(), c.dc.Ordered())
	}
}

// dialWS opens a colibri-ws connection on the advertised URL and reads it until it ends.
func (c *chClient) dialWS(t *testing.T) *wsConn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, resp, err := websocket.Dial(ctx, c.wsURL, nil)
	if err != nil {
		t.Fatalf("%s: colibri-ws %s: %v (response %v)", c.id, c.wsURL, err, resp)
	}
	w := &wsConn{c: conn, done: make(chan struct{})}
	go func() {
		defer close(w.done)
		for {
			typ, b, err := conn.Read(context.Background())
			if err != nil {
				w.status = websocket.CloseStatus(err)
				var ce websocket.CloseError
				if errors.As(err, &ce) {
					w.reason = ce.Reason
				}
				return
			}
			if typ == websocket.MessageText {
				c.record(b)
			}
		}
	}()
	c.mu.Lock()
	c.ws = w
	c.mu.Unlock()
	return w
}

// dialStatus tries a colibri-ws URL and returns the HTTP status of the refusal (0 if it
// connected).
func dialStatus(t *testing.T, url string) int {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, resp, err := websocket.Dial(ctx, url, nil)
	if err == nil {
		_ = conn.CloseNow()
		return 0
	}
	if resp == nil {
		t.Fatalf("dial %s: %v", url, err)
	}
	return resp.StatusCode
}

func (c *chClient) record(b []byte) {
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	class, _ := m["colibriClass"].(string)
	c.mu.Lock()
	c.msgs = append(c.msgs, bcMsg{at: time.Now(), class: class, raw: string(b), m: m})
	c.mu.Unlock()
}

// send writes a bridge-channel message on the client's transport.
func (c *chClient) send(t *testing.T, v any) {
	t.Helper()
	b, err := json.Marshal(v)
	must(t, err)
	if c.sctp {
		must(t, c.dc.SendText(string(b)))
		return
	}
	c.mu.Lock()
	w := c.ws
	c.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	must(t, w.c.Write(ctx, websocket.MessageText, b))
}

// mark returns the number of messages received so far, for waitMsg and since.
func (c *chClient) mark() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.msgs)
}

func (c *chClient) since(from int) []bcMsg {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.msgs[from:])
}

// waitMsg waits for a message received after mark from that satisfies match.
func (c *chClient) waitMsg(t *testing.T, from int, what string, match func(bcMsg) bool) bcMsg {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		for _, m := range c.since(from) {
			if match(m) {
				return m
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: no %s within 10 s; received %s (all: %s)", c.id, what, classes(c.since(from)), classes(c.since(0)))
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func classes(ms []bcMsg) string {
	var out []string
	for _, m := range ms {
		out = append(out, m.raw)
	}
	if len(out) > 12 {
		out = append(out[:6], append([]string{"…"}, out[len(out)-6:]...)...)
	}
	return "[" + strings.Join(out, " ") + "]"
}

func isClass(class string) func(bcMsg) bool {
	return func(m bcMsg) bool { return m.class == class }
}

// forwarded matches a ForwardedSources message with exactly the given sources.
func forwarded(sources ...string) func(bcMsg) bool {
	want := slices.Sorted(slices.Values(sources))
	return func(m bcMsg) bool {
		if m.class != "ForwardedSources" {
			return false
		}
		got := stringsOf(m.m["forwardedSources"])
		slices.Sort(got)
		return slices.Equal(got, want)
	}
}

// dominant matches a DominantSpeakerEndpointChangeEvent naming id.
func dominant(id string) func(bcMsg) bool {
	return func(m bcMsg) bool {
		return m.class == "DominantSpeakerEndpointChangeEvent" && m.m["dominantSpeakerEndpoint"] == id
	}
}

func stringsOf(v any) []string {
	list, _ := v.([]any)
	out := []string{}
	for _, x := range list {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// sendMedia is client.send with audio levels under the test's control: a loud client sends
// speech-like RFC 6464 levels (loud, with a quieter packet every 200 ms so that its noise floor
// stays below the speech level), a silent one a steady -110 dBov (not 127, which the bridge
// discards as silence after 3 packets, media.md §2.8). Video is 30 fps 3-layer
// VP8 simulcast, a keyframe on every encoding after a PLI.
func (c *chClient) sendMedia(ctx context.Context) {
	at, vt := time.NewTicker(20*time.Millisecond), time.NewTicker(33*time.Millisecond)
	defer at.Stop()
	defer vt.Stop()
	var aseq uint16
	var vseq [3]uint16
	frame := uint16(0)
	for {
		select {
		case <-ctx.Done():
			return
		case <-at.C:
			aseq++
			level := byte(110) // steady background noise: heard, but no speech
			if c.loud.Load() {
				level = 0x80 | 5 // voice, -5 dBov
				if aseq%10 == 0 {
					level = 100
				}
			}
			p := &pionrtp.Packet{Header: pionrtp.Header{Version: 2, PayloadType: 111, SequenceNumber: aseq,
				Timestamp: uint32(aseq) * 960}, Payload: []byte("opus-like-frame-of-twenty-ms")}
			_ = p.Header.SetExtension(1, []byte{level})
			_ = c.audio.WriteRTP(p)
		case <-vt.C:
			frame++
			key := frame == 1 || c.keyframe.Swap(false)
			for e := range c.video {
				vseq[e]++
				_ = c.video[e].WriteRTP(&pionrtp.Packet{Header: pionrtp.Header{Version: 2, PayloadType: 100, Marker: true,
					SequenceNumber: vseq[e], Timestamp: uint32(frame) * 3000},
					Payload: vp8Frame(frame, uint8(frame), key, layerSize[e][0], layerSize[e][1], byte(e))})
			}
		}
	}
}

// onTrack records received packets like client.onTrack, plus the arrival of video packets.
func (c *chClient) onTrack(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
	ssrc := uint32(tr.SSRC())
	for {
		pkt, attr, err := tr.ReadRTP()
		if err != nil {
			return
		}
		now := time.Now()
		rp := rxPacket{seq: pkt.SequenceNumber, ts: pkt.Timestamp, level: pkt.GetExtension(1) != nil}
		if v, ok := attr.Get(webrtc.AttributeRtxSsrc).(uint32); ok {
			rp.rtx, rp.rtxSSRC = true, v
		}
		var d rtp.VP8Descriptor
		video := pkt.PayloadType == 100 && d.Parse(pkt.Payload) == rtp.DropNone && len(pkt.Payload) >= 3
		if video {
			n := len(pkt.Payload)
			rp.pic, rp.key, rp.w, rp.h = d.PictureID, d.Keyframe, d.Width, d.Height
			rp.enc, rp.frame = pkt.Payload[n-3], uint16(pkt.Payload[n-2])<<8|uint16(pkt.Payload[n-1])
		}
		c.client.mu.Lock()
		c.got[ssrc] = append(c.got[ssrc], rp)
		c.client.mu.Unlock()
		if video && !rp.rtx {
			c.mu.Lock()
			c.arrivals[ssrc] = append(c.arrivals[ssrc], arrival{at: now, enc: rp.enc, key: rp.key})
			c.mu.Unlock()
		}
	}
}

// firstAfter waits for the first packet of encoding enc on ssrc that arrived after t0. The
// switch needs a keyframe, and on a busy machine retried requests can use up a pair's budget
// (3 per 10 s, media.md §2.6): the wait covers one throttle window.
func (c *chClient) firstAfter(t *testing.T, ssrc uint32, enc byte, t0 time.Time) arrival {
	t.Helper()
	deadline := time.Now().Add(12 * time.Second)
	for {
		c.mu.Lock()
		as := c.arrivals[ssrc]
		i := len(as)
		for i > 0 && as[i-1].at.After(t0) {
			i--
		}
		for _, a := range as[i:] {
			if a.enc == enc {
				c.mu.Unlock()
				return a
			}
		}
		c.mu.Unlock()
		if time.Now().After(deadline) {
			t.Fatalf("%s: no encoding %d on %d within 12 s", c.id, enc, ssrc)
		}
		time.Sleep(time.Millisecond)
	}
}

// videoFrom counts the video packets received from o (any encoding, RTX excluded).
func (c *chClient) videoFrom(o *chClient) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.arrivals[o.videoSSRC[0]])
}

func (c *chClient) close() {
	c.mu.Lock()
	w := c.ws
	c.mu.Unlock()
	if w != nil {
		_ = w.c.CloseNow()
	}
	c.client.close()
}

// rvc is a ReceiverVideoConstraints as jitsi-meet sends it: lastN, the tile height as default
// and per-source heights.
func rvc(lastN, def int, per map[string]int) map[string]any {
	cons := map[string]any{}
	for name, h := range per {
		cons[name] = map[string]int{"maxHeight": h}
	}
	return map[string]any{"colibriClass": "ReceiverVideoConstraints", "lastN": lastN,
		"selectedSources": []string{}, "onStageSources": []string{},
		"defaultConstraints": map[string]int{"maxHeight": def}, "constraints": cons}
}

// wsURLWith returns the client's colibri-ws URL with one part replaced.
func (c *chClient) wsURLWith(old, repl string) string {
	if !strings.Contains(c.wsURL, old) {
		panic(fmt.Sprintf("%q not in %s", old, c.wsURL))
	}
	return strings.Replace(c.wsURL, old, repl, 1)
}
