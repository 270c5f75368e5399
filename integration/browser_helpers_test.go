package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Browser tests run Chromium and the bridge inside a fresh network namespace that has only a
// loopback interface (environment.md §3): the parent test re-executes this test binary under
// `unshare --net` (plus a PID namespace), which brings lo up and runs TestBrowser again with
// browserNetnsEnv set. Chrome then gathers only 127.0.0.1 candidates, no media can leave the
// machine, and the namespaces disappear with the child process, whatever happens to it.
const (
	browserNetnsEnv = "VB_BROWSER_NETNS" // set in the child, inside the namespace
	// browserBinEnv runs the browser tests against a prebuilt bridge binary instead of the one
	// TestMain builds (for example one built with -overlay while trying a change).
	browserBinEnv = "VIDEOBRIDGE_BIN"
	// testOutEnv names the folder for screenshots; testdata/out by default.
	testOutEnv = "TEST_OUT"

	chromiumPath = "/usr/lib/chromium/chromium"
	// browserChildTimeout bounds the whole browser run, both modes included (< 3 minutes).
	browserChildTimeout = 170 * time.Second
)

// runBrowserChild re-executes TestBrowser inside a new network namespace and reports its
// outcome. It fails, never skips, when something the test needs is missing: CI installs it.
func runBrowserChild(t *testing.T) {
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Fatalf("Chromium is missing (%v): install it with `apt-get install -y chromium` (.ci/run does)", err)
	}
	for _, tool := range []string{"unshare", "ip"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is missing: install util-linux and iproute2 (.ci/run does)", tool)
		}
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), browserChildTimeout+10*time.Second)
	defer cancel()
	// --pid --fork --kill-child: the child is the first process of its own PID namespace, so
	// when it ends (or is killed at the deadline) the kernel ends the bridge and Chromium too.
	args := []string{"--net", "--pid", "--fork", "--kill-child", "--", "sh", "-c", `ip link set lo up && exec "$@"`, "sh", self,
		"-test.run", "^TestBrowser$", "-test.v", "-test.count=1", "-test.timeout", browserChildTimeout.String()}
	cmd := exec.CommandContext(ctx, "unshare", args...)
	bin := os.Getenv(browserBinEnv)
	if bin == "" {
		bin = bridgeBin
	}
	cmd.Env = append(os.Environ(), browserNetnsEnv+"=1", browserBinEnv+"="+bin)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	runErr := cmd.Run()
	// The child's verdicts, one line per (sub)test, then its full log on failure.
	for _, line := range strings.Split(out.String(), "\n") {
		if s := strings.TrimSpace(line); strings.HasPrefix(s, "--- ") {
			t.Log(s)
		}
	}
	if runErr != nil {
		t.Errorf("browser run in a network namespace failed: %v\n%s", runErr, tailLines(out.String(), 400))
	}
}

// browserOutDir is where screenshots go.
func browserOutDir(t *testing.T) string {
	dir := os.Getenv(testOutEnv)
	if dir == "" {
		dir = filepath.Join("testdata", "out")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	abs, _ := filepath.Abs(dir)
	return abs
}

// startChromium starts one headless Chromium with the flags of environment.md §3: the fake
// camera at 30 fps, no permission prompts, loopback candidates allowed and not hidden behind
// mDNS names, and background tabs not throttled (every tab is a participant).
func startChromium(t *testing.T, parent context.Context) context.Context {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath),
		chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("headless", "new"), chromedp.Flag("mute-audio", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 800),
		chromedp.Flag("use-fake-device-for-media-stream", "fps=30"),
		chromedp.Flag("use-fake-ui-for-media-stream", true),
		chromedp.Flag("allow-loopback-in-peer-connection", true),
		chromedp.Flag("disable-features", "WebRtcHideLocalIpsWithMdns"),
		chromedp.Flag("autoplay-policy", "no-user-gesture-required"),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-background-timer-throttling", true),
		chromedp.Flag("disable-renderer-backgrounding", true),
		chromedp.Flag("disable-backgrounding-occluded-windows", true),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(parent, opts...)
	bctx, cancelBrowser := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelBrowser(); cancelAlloc() })
	// The first Run starts the browser; its context must carry no timeout of its own.
	if err := chromedp.Do(bctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("starting Chromium: %v", err)
	}
	return bctx
}

// tab is one browser tab, with its console kept for failure reports.
type tab struct {
	name   string
	ctx    context.Context
	cancel context.CancelFunc

	mu      sync.Mutex
	console []string
}

// openTab opens a new tab on the browser of bctx and navigates it to url.
func openTab(t *testing.T, bctx context.Context, name, url string) *tab {
	t.Helper()
	ctx, cancel := chromedp.NewContext(bctx)
	tb := &tab{name: name, ctx: ctx, cancel: cancel}
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("%s: opening a tab: %v", name, err)
	}
	messages := chromedp.Console(ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			tb.mu.Lock()
			if len(tb.console) < 500 {
				tb.console = append(tb.console, m.String())
			}
			tb.mu.Unlock()
		}
	}()
	if err := chromedp.Do(ctx, chromedp.Navigate(url)); err != nil {
		t.Fatalf("%s: navigating to %s: %v", name, url, err)
	}
	return tb
}

func (tb *tab) consoleLog() string {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	return strings.Join(tb.console, "\n")
}

// evaluate runs a script in the tab with a bounded wait.
func evaluate[T any](tb *tab, script string) (T, error) {
	ctx, cancel := context.WithTimeout(tb.ctx, 5*time.Second)
	defer cancel()
	return chromedp.Run(ctx, chromedp.Evaluate[T](script, chromedp.EvalAwaitPromise))
}

// pageState mirrors window.demo.state() of the demo page.
type pageState struct {
	Phase        string `json:"phase"`
	EndpointID   string `json:"endpointId"`
	Participants []struct {
		ID      string `json:"id"`
		Name    string `json:"name"`
		Sources []struct {
			Type string `json:"type"`
			Name string `json:"name"`
		} `json:"sources"`
	} `json:"participants"`
	Stage          *string `json:"stage"`
	Dominant       *string `json:"dominant"`
	DominantEvents int     `json:"dominantEvents"`
	Channel        struct {
		Kind     string         `json:"kind"`
		Open     bool           `json:"open"`
		Opened   int            `json:"opened"`
		Received int            `json:"received"`
		Sent     int            `json:"sent"`
		Classes  map[string]int `json:"classes"`
		URL      string         `json:"url"`
	} `json:"channel"`
	Negotiations    int                    `json:"negotiations"`
	Accepted        bool                   `json:"accepted"`
	Encodings       int                    `json:"encodings"`
	IceState        string                 `json:"iceState"`
	ConnectionState string                 `json:"connectionState"`
	Remote          map[string]remoteStats `json:"remote"`
	Local           []struct {
		FrameHeight int     `json:"frameHeight"`
		FPS         float64 `json:"fps"`
		Active      bool    `json:"active"`
		Limit       string  `json:"qualityLimitationReason"`
	} `json:"local"`
	Errors []string `json:"errors"`
}

type remoteStats struct {
	Owner           string  `json:"owner"`
	Kind            string  `json:"kind"`
	PacketsReceived int64   `json:"packetsReceived"`
	FramesDecoded   int64   `json:"framesDecoded"`
	FrameHeight     int     `json:"frameHeight"`
	KBPS            int     `json:"kbps"`
	AudioEnergy     float64 `json:"totalAudioEnergy"`
}

func (tb *tab) state() (pageState, error) {
	raw, err := evaluate[json.RawMessage](tb, `window.demo ? JSON.stringify(window.demo.state()) : "null"`)
	if err != nil {
		return pageState{}, err
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return pageState{}, err
	}
	var st pageState
	if s == "null" {
		return st, errors.New("the demo page has not loaded")
	}
	return st, json.Unmarshal([]byte(s), &st)
}

// videoOf returns the name of the participant's video source as the page knows it.
func (s pageState) videoOf(endpointID string) string {
	for _, p := range s.Participants {
		if p.ID == endpointID {
			for _, src := range p.Sources {
				if src.Type == "video" {
					return src.Name
				}
			}
		}
	}
	return ""
}

// waitAll polls every tab's state until check passes for all of them or the deadline passes; it
// returns the reason of the last failed check.
func waitAll(tabs []*tab, within time.Duration, check func(*tab, pageState) error) error {
	deadline := time.Now().Add(within)
	for {
		var failed error
		for _, tb := range tabs {
			st, err := tb.state()
			if err == nil {
				err = check(tb, st)
			}
			if err != nil {
				failed = fmt.Errorf("%s: %w", tb.name, err)
				break
			}
		}
		if failed == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not within %s: %w", within, failed)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// browserBridgeConf is the bridge's jvb.conf for a browser run: no XMPP (standalone mode),
// SCTP or colibri-ws, and no need for a public address in the loopback-only namespace.
// startBridge adds the private HTTP and media ports.
func browserBridgeConf(sctp bool, publicPort int) string {
	conf := "videobridge.health.require-valid-address = false\n" +
		"videobridge.http-servers.private.host = \"127.0.0.1\"\n" +
		fmt.Sprintf("videobridge.sctp.enabled = %t\n", sctp)
	if !sctp {
		conf += fmt.Sprintf("videobridge.http-servers.public.port = %d\n", publicPort) +
			"videobridge.websockets.enabled = true\n" +
			"videobridge.websockets.tls = false\n" +
			"videobridge.websockets.server-id = \"browser-test\"\n" +
			fmt.Sprintf("videobridge.websockets.domains = [\"127.0.0.1:%d\"]\n", publicPort)
	}
	return conf
}

// checkDemoServed fails clearly when the bridge binary does not serve the standalone page.
func checkDemoServed(t *testing.T, rb *runningBridge) {
	t.Helper()
	resp, err := http.Get(rb.httpURL + "/")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || !bytes.Contains(b, []byte("standalone demo")) {
		t.Fatalf("the bridge does not serve the standalone demo page at / (status %d): "+
			"cmd/videobridge must mount bridge/demo when no XMPP client is configured", resp.StatusCode)
	}
}

// pageSDPScript exercises the page's SDP helpers (bridge/demo/static/sdp.js) in Chromium: a
// fixed answer is munged and parsed, and an offer built from a real allocation goes through a
// real RTCPeerConnection, answered and munged as the page does.
const pageSDPScript = `async (a) => {
  const out = {};
  try {
    const cache = { primaries: [12, 13], rtx: [22, 23] };
    out.munged = DemoSDP.mungeSimulcast(a.answer, '1', cache);
    out.again = DemoSDP.mungeSimulcast(out.munged, '1', cache);
    out.parsed = DemoSDP.parseAnswer(out.munged, { audio: '0', video: '1' });
    const src = (type, ssrcs, groups) => ({ name: 'aaaa0001' + (type === 'audio' ? '-a0' : '-v0'), owner: 'aaaa0001', type, ssrcs, groups });
    const slots = [
      { mid: '0', kind: 'audio', direction: 'recvonly' }, { mid: '1', kind: 'video', direction: 'recvonly' },
      { mid: '2', kind: 'application' },
      { mid: '3', kind: 'audio', direction: 'sendonly', source: src('audio', [5001]) },
      { mid: '4', kind: 'video', direction: 'sendonly', source: src('video', [5002, 5012], [{ semantics: 'FID', ssrcs: [5002, 5012] }]) },
    ];
    out.offer = DemoSDP.buildOffer({ transport: a.transport, sctpPort: a.sctpPort, media: a.media, slots, sessionId: '1', version: 1 });
    const pc = new RTCPeerConnection({ bundlePolicy: 'max-bundle', rtcpMuxPolicy: 'require' });
    pc.createDataChannel('JVB data channel', { protocol: 'http://jitsi.org/protocols/colibri' });
    await pc.setRemoteDescription({ type: 'offer', sdp: out.offer });
    const stream = await navigator.mediaDevices.getUserMedia({ video: { width: 1280, height: 720 } });
    const tv = pc.getTransceivers().find((t) => t.mid === '1');
    tv.direction = 'sendonly';
    await tv.sender.replaceTrack(stream.getVideoTracks()[0]);
    const answer = await pc.createAnswer();
    out.answer = DemoSDP.mungeSimulcast(answer.sdp, '1', {});
    await pc.setLocalDescription({ type: 'answer', sdp: out.answer });
    out.encodings = tv.sender.getParameters().encodings.length;
    out.directions = pc.getTransceivers().map((t) => t.mid + ':' + t.currentDirection);
    pc.close();
    stream.getTracks().forEach((t) => t.stop());
  } catch (e) {
    out.error = String((e && e.stack) || e);
  }
  return JSON.stringify(out);
}`

const answerFingerprint = "BB:50:EE:83:47:4C:EB:04:4F:9E:32:5D:EC:42:9C:33:1E:E5:DF:17:46:C3:AA:20:E1:F5:C6:0B:E7:C4:78:BF"

func sdpLines(lines ...string) string { return strings.Join(lines, "\r\n") + "\r\n" }

// fixedAnswer is a Chrome-like answer: one sending audio and one sending video m-line with RTX,
// a TCP, an mDNS and a duplicate candidate that the page must drop.
var fixedAnswer = sdpLines(
	"v=0", "o=- 4611731400430051336 2 IN IP4 127.0.0.1", "s=-", "t=0 0", "a=group:BUNDLE 0 1",
	"a=extmap-allow-mixed", "a=msid-semantic: WMS stream1",
	"m=audio 9 UDP/TLS/RTP/SAVPF 111", "c=IN IP4 0.0.0.0", "a=rtcp:9 IN IP4 0.0.0.0",
	"a=candidate:1467250027 1 udp 2122260223 127.0.0.1 52034 typ host generation 0 network-id 1",
	"a=candidate:1467250028 1 tcp 1518280447 127.0.0.1 9 typ host tcptype active generation 0 network-id 1",
	"a=candidate:2075093291 1 udp 2122262783 9b36eaac-bb2e-49bb-bb78-21c41c499900.local 48112 typ host generation 0 network-id 2",
	"a=candidate:1467250027 1 udp 2122260223 127.0.0.1 52034 typ host generation 0 network-id 1",
	"a=ice-ufrag:sXoJ", "a=ice-pwd:PirYicPKtYw4+mkIUOm1wWQm", "a=ice-options:trickle",
	"a=fingerprint:sha-256 "+answerFingerprint, "a=setup:active", "a=mid:0",
	"a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level", "a=sendonly", "a=msid:stream1 track-a", "a=rtcp-mux",
	"a=rtpmap:111 opus/48000/2", "a=ssrc:1000 cname:Yx7", "a=ssrc:1000 msid:stream1 track-a",
	"m=video 9 UDP/TLS/RTP/SAVPF 100 96", "c=IN IP4 0.0.0.0", "a=rtcp:9 IN IP4 0.0.0.0",
	"a=ice-ufrag:sXoJ", "a=ice-pwd:PirYicPKtYw4+mkIUOm1wWQm", "a=ice-options:trickle",
	"a=fingerprint:sha-256 "+answerFingerprint, "a=setup:active", "a=mid:1", "a=sendonly", "a=msid:stream1 track-v",
	"a=rtcp-mux", "a=rtpmap:100 VP8/90000", "a=rtpmap:96 rtx/90000", "a=fmtp:96 apt=100",
	"a=ssrc-group:FID 11 21", "a=ssrc:11 cname:Yx7", "a=ssrc:11 msid:stream1 track-v",
	"a=ssrc:21 cname:Yx7", "a=ssrc:21 msid:stream1 track-v",
)

// fixedAnswerMunged is fixedAnswer with the two extra layers lib-jitsi-meet adds (media.md §5).
var fixedAnswerMunged = strings.TrimSuffix(fixedAnswer, "\r\n") + "\r\n" + sdpLines(
	"a=ssrc:12 cname:Yx7", "a=ssrc:12 msid:stream1 track-v", "a=ssrc:22 cname:Yx7", "a=ssrc:22 msid:stream1 track-v",
	"a=ssrc:13 cname:Yx7", "a=ssrc:13 msid:stream1 track-v", "a=ssrc:23 cname:Yx7", "a=ssrc:23 msid:stream1 track-v",
	"a=ssrc-group:FID 12 22", "a=ssrc-group:FID 13 23", "a=ssrc-group:SIM 11 12 13",
)

// fixedAnswerParsed is what the page sends the focus for fixedAnswerMunged.
const fixedAnswerParsed = `{"transport":{"ufrag":"sXoJ","pwd":"PirYicPKtYw4+mkIUOm1wWQm",
 "fingerprints":[{"hash":"sha-256","setup":"active","value":"` + answerFingerprint + `"}],
 "candidates":[{"foundation":"1467250027","component":1,"protocol":"udp","priority":2122260223,"ip":"127.0.0.1","port":52034,"type":"host","generation":0}]},
 "sources":[{"type":"audio","ssrcs":[1000]},{"type":"video","ssrcs":[11,21,12,22,13,23],"groups":[
  {"semantics":"FID","ssrcs":[11,21]},{"semantics":"FID","ssrcs":[12,22]},{"semantics":"FID","ssrcs":[13,23]},{"semantics":"SIM","ssrcs":[11,12,13]}]}]}`
