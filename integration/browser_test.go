package integration

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/coder/websocket"
	"github.com/pion/sdp/v3"
)

// TestBrowser is the interop check with a real browser (issue 6): headless Chromium tabs join
// one room of the bridge's standalone demo and meet through the bridge, first with the SCTP
// data channel as bridge channel, then with SCTP off and colibri-ws. Everything runs in a
// loopback-only network namespace (see browser_helpers_test.go).
func TestBrowser(t *testing.T) {
	if os.Getenv(browserNetnsEnv) == "" {
		runBrowserChild(t)
		return
	}
	if bin := os.Getenv(browserBinEnv); bin != "" {
		bridgeBin = bin
	}
	ctx, cancel := context.WithTimeout(context.Background(), browserChildTimeout-10*time.Second)
	defer cancel()
	bctx := startChromium(t, ctx)
	t.Run("sctp", func(t *testing.T) { runMeeting(t, bctx, meetingMode{name: "sctp", sctp: true, tabs: 3}) })
	t.Run("colibri-ws", func(t *testing.T) { runMeeting(t, bctx, meetingMode{name: "colibri-ws", sctp: false, tabs: 2}) })
}

type meetingMode struct {
	name string
	sctp bool
	tabs int
}

// Upper bounds for the waits; they only stop a broken run, nothing passes by being fast.
const (
	joinWithin    = 20 * time.Second
	connectWithin = 20 * time.Second
	mediaWithin   = 20 * time.Second
	layoutWithin  = 25 * time.Second
	leaveWithin   = 15 * time.Second
)

// meeting is one browser run: the bridge, the tabs and the outcome of each step.
type meeting struct {
	t      *testing.T
	mode   meetingMode
	tabs   []*tab
	ids    []string // endpoint id of each tab
	passed map[string]bool
}

// step runs one assertion as a subtest. A step whose prerequisite failed fails at once, naming
// it, so the report says exactly which assertions passed and which could not run.
func (m *meeting) step(name string, needs []string, fn func(t *testing.T)) {
	m.passed[name] = m.t.Run(name, func(t *testing.T) {
		for _, n := range needs {
			if !m.passed[n] {
				t.Fatalf("not run: needs %q, which failed", n)
			}
		}
		fn(t)
	})
}

func runMeeting(t *testing.T, bctx context.Context, mode meetingMode) {
	public := 0
	if !mode.sctp {
		public = freeTCPPort(t)
	}
	rb := startBridge(t, browserBridgeConf(mode.sctp, public))
	checkDemoServed(t, rb)
	m := &meeting{t: t, mode: mode, passed: map[string]bool{}}
	if mode.sctp {
		m.step("page_sdp_helpers", nil, func(t *testing.T) { checkPageSDP(t, bctx, rb) })
	}
	room := "browser-" + mode.name
	for i := range mode.tabs {
		url := fmt.Sprintf("%s/?room=%s&name=Tab%d&autojoin=1", rb.httpURL, room, i)
		m.tabs = append(m.tabs, openTab(t, bctx, fmt.Sprintf("tab%d", i), url))
	}
	t.Cleanup(func() {
		if t.Failed() {
			for _, tb := range m.tabs {
				st, err := tb.state()
				b, _ := json.MarshalIndent(st, "", " ")
				t.Logf("%s state (err %v):\n%s\nconsole:\n%s", tb.name, err, b, tailLines(tb.consoleLog(), 40))
			}
		}
	})

	m.step("joined", nil, m.checkJoined)
	m.step("participants", []string{"joined"}, m.checkParticipants)
	m.step("ice_dtls_connected", []string{"joined"}, m.checkConnected)
	m.step("bridge_channel_open", []string{"ice_dtls_connected"}, m.checkChannel)
	// Video needs the bridge channel: nothing is forwarded before a receiver's first constraints.
	m.step("video_decodes", []string{"bridge_channel_open", "participants"}, m.checkVideo)
	m.step("audio_arrives", []string{"ice_dtls_connected", "participants"}, m.checkAudio)
	m.step("dominant_speaker", []string{"bridge_channel_open"}, m.checkDominantSpeaker)
	m.step("tile_view_180", []string{"video_decodes", "bridge_channel_open"}, func(t *testing.T) { m.checkHeights(t, "") })
	m.step("stage_720", []string{"tile_view_180"}, func(t *testing.T) { m.checkHeights(t, m.clickTile(t)) })
	m.step("screenshot", nil, m.saveScreenshot)
	m.step("tile_view_again_180", []string{"stage_720"}, func(t *testing.T) {
		m.clickTile(t) // the staged tile again: back to the tile view
		m.checkHeights(t, "")
	})
	m.step("leave", []string{"participants"}, m.checkLeave)
	checkBridgeLog(t, rb)
}

func (m *meeting) checkJoined(t *testing.T) {
	err := waitAll(m.tabs, joinWithin, func(_ *tab, s pageState) error {
		switch {
		case len(s.Errors) > 0:
			return fmt.Errorf("page errors: %v", s.Errors)
		case s.Phase != "joined" || !s.Accepted || s.Negotiations < 1:
			return fmt.Errorf("phase %s, accepted %v, negotiations %d", s.Phase, s.Accepted, s.Negotiations)
		case s.Encodings != 3:
			return fmt.Errorf("the video sender has %d encodings, want 3 (SIM munging)", s.Encodings)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, tb := range m.tabs {
		s, _ := tb.state()
		m.ids = append(m.ids, s.EndpointID)
	}
}

func (m *meeting) checkParticipants(t *testing.T) {
	err := waitAll(m.tabs, joinWithin, func(_ *tab, s pageState) error {
		if len(s.Participants) != len(m.tabs)-1 {
			return fmt.Errorf("sees %d participants, want %d", len(s.Participants), len(m.tabs)-1)
		}
		for _, p := range s.Participants {
			if len(p.Sources) != 2 {
				return fmt.Errorf("participant %s has %d sources, want audio and video", p.ID, len(p.Sources))
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func (m *meeting) checkConnected(t *testing.T) {
	err := waitAll(m.tabs, connectWithin, func(_ *tab, s pageState) error {
		if s.ConnectionState != "connected" {
			return fmt.Errorf("ICE %s, connection (ICE+DTLS) %s", s.IceState, s.ConnectionState)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func (m *meeting) checkChannel(t *testing.T) {
	want := "sctp"
	if !m.mode.sctp {
		want = "websocket"
	}
	err := waitAll(m.tabs, connectWithin, func(_ *tab, s pageState) error {
		if s.Channel.Kind != want || !s.Channel.Open || s.Channel.Sent < 1 {
			return fmt.Errorf("bridge channel %s open=%v sent=%d, want %s open", s.Channel.Kind, s.Channel.Open, s.Channel.Sent, want)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// remoteGrowth waits until, in every tab, every remote source of the kind has a counter at
// least min above what it was when the step started.
func (m *meeting) remoteGrowth(t *testing.T, kind string, counter func(remoteStats) int64, min int64) {
	base := map[string]int64{}
	for _, tb := range m.tabs {
		if s, err := tb.state(); err == nil {
			for name, r := range s.Remote {
				base[tb.name+"/"+name] = counter(r)
			}
		}
	}
	err := waitAll(m.tabs, mediaWithin, func(tb *tab, s pageState) error {
		n := 0
		for name, r := range s.Remote {
			if r.Kind != kind {
				continue
			}
			n++
			if got := counter(r) - base[tb.name+"/"+name]; got < min {
				return fmt.Errorf("%s grew by %d, want %d", name, got, min)
			}
		}
		if n != len(m.tabs)-1 {
			return fmt.Errorf("%d remote %s sources have stats, want %d", n, kind, len(m.tabs)-1)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func (m *meeting) checkVideo(t *testing.T) {
	// One second of frames at the fake camera's 30 fps.
	m.remoteGrowth(t, "video", func(r remoteStats) int64 { return r.FramesDecoded }, 30)
}

func (m *meeting) checkAudio(t *testing.T) {
	// One second of 20 ms Opus packets.
	m.remoteGrowth(t, "audio", func(r remoteStats) int64 { return r.PacketsReceived }, 50)
}

func (m *meeting) checkDominantSpeaker(t *testing.T) {
	err := waitAll(m.tabs, mediaWithin, func(_ *tab, s pageState) error {
		if s.DominantEvents < 1 || s.Dominant == nil {
			return fmt.Errorf("no DominantSpeakerEndpointChangeEvent (messages %v)", s.Channel.Classes)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// clickTile clicks tab0's tile of tab1 and returns the video source tab0 then has on stage ("" in
// the tile view).
func (m *meeting) clickTile(t *testing.T) string {
	ctx, cancel := context.WithTimeout(m.tabs[0].ctx, 10*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("tile-"+m.ids[1]))); err != nil {
		t.Fatalf("clicking the tile of %s: %v", m.ids[1], err)
	}
	s, err := m.tabs[0].state()
	if err != nil {
		t.Fatal(err)
	}
	if s.Stage == nil {
		return ""
	}
	if want := s.videoOf(m.ids[1]); *s.Stage != want {
		t.Fatalf("stage is %q after the click, want %q", *s.Stage, want)
	}
	return *s.Stage
}

// checkHeights waits until tab0 receives the staged source at 720 and every other remote
// video at 180 (the tile view when staged is "").
func (m *meeting) checkHeights(t *testing.T, staged string) {
	err := waitAll(m.tabs[:1], layoutWithin, func(_ *tab, s pageState) error {
		for name, r := range s.Remote {
			if r.Kind != "video" {
				continue
			}
			want := 180
			if name == staged {
				want = 720
			}
			if r.FrameHeight != want {
				return fmt.Errorf("%s arrives at %dp, want %dp", name, r.FrameHeight, want)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func (m *meeting) saveScreenshot(t *testing.T) {
	ctx, cancel := context.WithTimeout(m.tabs[0].ctx, 10*time.Second)
	defer cancel()
	front := chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, page.BringToFront, cdp.Empty{})
		return err
	})
	if err := chromedp.Do(ctx, front); err != nil {
		t.Fatal(err)
	}
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(browserOutDir(t), "browser-"+m.mode.name+"-tab0.png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", path)
}

// checkLeave closes the last tab: the others drop its participant and its tile.
func (m *meeting) checkLeave(t *testing.T) {
	last := len(m.tabs) - 1
	gone := m.ids[last]
	m.tabs[last].cancel()
	rest := m.tabs[:last]
	err := waitAll(rest, leaveWithin, func(tb *tab, s pageState) error {
		for _, p := range s.Participants {
			if p.ID == gone {
				return fmt.Errorf("still lists %s", gone)
			}
		}
		tile, err := evaluate[bool](tb, fmt.Sprintf("document.getElementById(%q) !== null", "tile-"+gone))
		if err != nil || tile {
			return fmt.Errorf("tile of %s still shown (%v)", gone, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// checkPageSDP checks the page's SDP helpers in Chromium against the real focus: the offer
// built from a real allocation is accepted, the munged answer yields three encodings, and the
// munging and parsing of a fixed answer give exactly the expected lines and sources.
func checkPageSDP(t *testing.T, bctx context.Context, rb *runningBridge) {
	joined := focusJoin(t, rb, "sdp-check")
	tb := openTab(t, bctx, "sdp", rb.httpURL+"/")
	defer tb.cancel()
	arg, _ := json.Marshal(map[string]any{"transport": joined["transport"], "media": joined["media"],
		"sctpPort": joined["sctpPort"], "answer": fixedAnswer})
	raw, err := evaluate[string](tb, "("+pageSDPScript+")("+string(arg)+")")
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Munged, Again, Offer, Answer, Error string
		Parsed                              json.RawMessage
		Encodings                           int
		Directions                          []string
	}
	if err := json.Unmarshal([]byte(raw), &got); err != nil {
		t.Fatalf("%v: %s", err, raw)
	}
	if got.Error != "" {
		t.Fatalf("in the page: %s\noffer:\n%s", got.Error, got.Offer)
	}
	if got.Munged != fixedAnswerMunged || got.Again != got.Munged {
		t.Errorf("munged answer:\n%s\nwant:\n%s\nmunged twice equal: %v", got.Munged, fixedAnswerMunged, got.Again == got.Munged)
	}
	if pj := mustCompact(t, string(got.Parsed)); pj != mustCompact(t, fixedAnswerParsed) {
		t.Errorf("parsed answer:\n%s\nwant:\n%s", pj, mustCompact(t, fixedAnswerParsed))
	}
	var offer sdp.SessionDescription
	if err := offer.UnmarshalString(got.Offer); err != nil {
		t.Fatalf("the page's offer does not parse: %v\n%s", err, got.Offer)
	}
	var shape []string
	for _, md := range offer.MediaDescriptions {
		mid, _ := md.Attribute("mid")
		dir := "-"
		for _, d := range []string{"sendonly", "recvonly", "inactive", "sendrecv"} {
			if _, ok := md.Attribute(d); ok {
				dir = d
			}
		}
		ssrcs := 0
		for _, a := range md.Attributes {
			if a.Key == "ssrc" {
				ssrcs++
			}
		}
		shape = append(shape, fmt.Sprintf("%s/%s/%s/%d", mid, md.MediaName.Media, dir, ssrcs))
	}
	wantShape := "0/audio/recvonly/0 1/video/recvonly/0 2/application/-/0 3/audio/sendonly/2 4/video/sendonly/4"
	if strings.Join(shape, " ") != wantShape {
		t.Errorf("offer m-lines %v, want %s", shape, wantShape)
	}
	if got.Encodings != 3 || !strings.Contains(got.Answer, "a=ssrc-group:SIM ") {
		t.Errorf("Chromium's sender has %d encodings after the munged answer, want 3", got.Encodings)
	}
	if d := strings.Join(got.Directions, " "); d != "0:inactive 1:sendonly 3:recvonly 4:recvonly" {
		t.Errorf("negotiated directions %s", d)
	}
}

func mustCompact(t *testing.T, s string) string {
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// focusJoin joins a room through the bridge's signalling socket, as the page does, and returns
// the joined message; the participant leaves when the test ends.
func focusJoin(t *testing.T, rb *runningBridge, room string) map[string]any {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(rb.httpURL, "http")+"/demo/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.CloseNow() })
	if err := c.Write(ctx, websocket.MessageText, []byte(`{"type":"join","room":"`+room+`","name":"Go"}`)); err != nil {
		t.Fatal(err)
	}
	_, b, err := c.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil || m["type"] != "joined" {
		t.Fatal(errors.Join(err, fmt.Errorf("join answered %s", b)))
	}
	return m
}
