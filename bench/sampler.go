package bench

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/cityjitsi/videobridge/bench/client"
	"github.com/cityjitsi/videobridge/bench/report"
	"github.com/cityjitsi/videobridge/bench/stats"
)

// point is the cumulative state at one sampling instant.
type point struct {
	at           time.Time
	totals       client.Totals
	bridge       BridgeSample
	gen          float64 // harness CPU seconds
	machine      float64 // CPU seconds of every process on the machine (softirq apart)
	softirq      float64 // kernel softirq CPU seconds (packet processing)
	genDrops     uint64  // kernel receive drops of the endpoints' sockets
	bridgeDrops  uint64  // kernel receive drops of the bridge's media socket (local)
	expected     uint64
	received     uint64
	freezes      uint64
	participants int
}

// window accumulates a measurement window.
type window struct {
	start        point
	audio, video stats.Histogram
	participants int
}

// sampler measures once per second: endpoint counters and latency, bridge and harness CPU.
// Its state is guarded by mu (the sampling goroutine and the run's window calls share it).
type sampler struct {
	e *engine

	mu         sync.Mutex
	prev       point
	series     []report.Sample
	win        *window
	idleRSS    float64
	idleCPU    float64   // bridge cores before any endpoint joined; -1 unknown
	lastRecv   time.Time // when forwarded RTP last increased
	recvEver   bool
	aliveFails int
	progress   *progress
	phase      string
}

func newSampler(e *engine) *sampler {
	s := &sampler{e: e, progress: newProgress(e.o.Progress, e.o.Live), lastRecv: time.Now()}
	s.prev = s.measure(nil)
	s.idleRSS, s.idleCPU = s.prev.bridge.RSS, -1
	return s
}

// measureIdle measures the bridge's own CPU use with nobody connected, over d.
func (s *sampler) measureIdle(d time.Duration) {
	if d <= 0 || s.e.t.Probe == nil {
		return
	}
	s.setPhase("idle")
	s.mu.Lock()
	start := s.measure(nil)
	s.mu.Unlock()
	if !s.e.sleep(d) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	end := s.measure(nil)
	s.idleCPU = rate(end.bridge.CPUSeconds, start.bridge.CPUSeconds, end.at.Sub(start.at).Seconds())
	s.idleRSS = end.bridge.RSS
}

// run samples every second until ctx ends.
func (s *sampler) run(ctx context.Context) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			s.tick()
		}
	}
}

// measure reads every connected endpoint (moving their latency samples into audio/video when
// given), the bridge probe and the harness's CPU.
func (s *sampler) measure(lat *[2]stats.Histogram) point {
	p := point{at: time.Now(), bridge: unknownSample(), gen: selfCPU()}
	p.machine, p.softirq = machineCPU()
	var iv client.Interval
	ports := map[uint16]bool{}
	for _, m := range s.e.connectedMembers() {
		ports[m.c.LocalPort()] = true
		m.c.Snapshot(&iv)
		p.totals.Add(iv.Totals)
		p.expected += iv.Expected
		p.received += iv.Received
		p.freezes += iv.Freezes
		p.participants++
		if lat != nil {
			lat[0].Merge(&iv.AudioLatency)
			lat[1].Merge(&iv.VideoLatency)
		}
	}
	p.genDrops = udpDrops("/proc/net", ports)
	if mp := s.e.t.MediaPort; mp > 0 {
		dir := s.e.t.MediaNetDir
		if dir == "" {
			dir = "/proc/net"
		}
		p.bridgeDrops = udpDrops(dir, map[uint16]bool{uint16(mp): true})
	}
	if s.e.t.Probe != nil {
		// Not the run's context: the final measurement happens after a failure too.
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		if b, err := s.e.t.Probe.Sample(ctx); err == nil {
			p.bridge = b
		}
		cancel()
	}
	return p
}

func rate(cur, prev float64, dt float64) float64 {
	if cur < 0 || prev < 0 || dt <= 0 {
		return -1
	}
	return (cur - prev) / dt
}

func fwd(t client.Totals) uint64 { return t.RTPRecv + t.InducedRecvLoss }

func (s *sampler) tick() {
	s.mu.Lock()
	defer s.mu.Unlock()
	var lat [2]stats.Histogram
	p := s.measure(&lat)
	dt := p.at.Sub(s.prev.at).Seconds()
	var all stats.Histogram
	all.Merge(&lat[0])
	all.Merge(&lat[1])
	sample := report.Sample{T: p.at.Sub(s.e.start).Seconds(), Participants: p.participants,
		BridgeCPU: rate(p.bridge.CPUSeconds, s.prev.bridge.CPUSeconds, dt), GeneratorCPU: rate(p.gen, s.prev.gen, dt),
		SentPPS: float64(p.totals.RTPSent-min(s.prev.totals.RTPSent, p.totals.RTPSent)) / dt,
		RecvPPS: float64(fwd(p.totals)-min(fwd(s.prev.totals), fwd(p.totals))) / dt,
		SentBPS: 8 * float64(p.totals.RTPSentBytes-min(s.prev.totals.RTPSentBytes, p.totals.RTPSentBytes)) / dt,
		RecvBPS: 8 * float64(p.totals.RTPRecvBytes-min(s.prev.totals.RTPRecvBytes, p.totals.RTPRecvBytes)) / dt,
		RSS:     p.bridge.RSS, Heap: p.bridge.Heap, Goroutines: p.bridge.Goroutines,
		LatencyP50: ms(all.Quantile(0.5)), LatencyP99: ms(all.Quantile(0.99)),
		Loss: lossOf(s.prev, p), Freezes: p.freezes,
		OtherCPU: s.otherCPU(s.prev, p, dt), SoftIRQ: rate(p.softirq, s.prev.softirq, dt)}
	s.series = append(s.series, sample)
	if s.win != nil {
		s.win.audio.Merge(&lat[0])
		s.win.video.Merge(&lat[1])
		s.win.participants = max(s.win.participants, p.participants)
	}
	if fwd(p.totals) > fwd(s.prev.totals) {
		s.lastRecv, s.recvEver = p.at, true
	}
	s.prev = p
	s.progress.show(sample, int(s.e.failures.Load()), s.phase)
	s.checkHealth(p)
}

// otherCPU is the CPU that processes other than the bridge and the harness used between a and
// b (cores); -1 unknown (or when the bridge is not on this machine).
func (s *sampler) otherCPU(a, b point, dt float64) float64 {
	m := rate(b.machine, a.machine, dt)
	br := rate(b.bridge.CPUSeconds, a.bridge.CPUSeconds, dt)
	g := rate(b.gen, a.gen, dt)
	if m < 0 || br < 0 || g < 0 || s.e.t.Info.PID == 0 {
		return -1
	}
	return max(m-br-g, 0)
}

func lossOf(a, b point) float64 {
	de := b.expected - min(a.expected, b.expected)
	dr := b.received - min(a.received, b.received)
	if de == 0 || dr >= de {
		return 0
	}
	return float64(de-dr) / float64(de)
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// checkHealth ends the run when the bridge is gone or forwarding stopped; s.mu is held.
func (s *sampler) checkHealth(p point) {
	e := s.e
	if e.t.Exited != nil {
		select {
		case <-e.t.Exited:
			e.fail(fmt.Errorf("%w: %s", ErrBridgeExited, e.t.ExitReport()))
			return
		default:
		}
	}
	if e.t.Alive != nil {
		if err := e.t.Alive(); err != nil {
			if s.aliveFails++; s.aliveFails >= 3 {
				e.fail(err)
				return
			}
		} else {
			s.aliveFails = 0
		}
	}
	if p.participants < 2 || !s.anySender() {
		return
	}
	since := time.Unix(0, e.lastConnect.Load())
	if s.lastRecv.After(since) {
		since = s.lastRecv
	}
	if quiet := p.at.Sub(since); quiet > e.o.StallTimeout {
		if !s.recvEver {
			e.fail(fmt.Errorf("%w: %d endpoints connected (ICE and DTLS done) but no RTP was forwarded to them within %v",
				ErrNoMedia, p.participants, e.o.StallTimeout))
		} else {
			e.fail(fmt.Errorf("%w: no forwarded RTP for %v (last at t=%.0fs)", ErrStalled, quiet.Round(time.Second),
				s.lastRecv.Sub(e.start).Seconds()))
		}
	}
}

// Run-ending conditions found by sampling.
var (
	ErrNoMedia = errors.New("bench: no media forwarded")
	ErrStalled = errors.New("bench: bridge stalled")
)

func (s *sampler) anySender() bool {
	for _, m := range s.e.connectedMembers() {
		if m.sends {
			return true
		}
	}
	return false
}

// startWindow begins a measurement window now.
func (s *sampler) startWindow(phase string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var lat [2]stats.Histogram
	p := s.measure(&lat) // latency before the window is dropped
	s.prev = p
	s.win = &window{start: p, participants: p.participants}
	s.phase = phase
}

func (s *sampler) setPhase(phase string) {
	s.mu.Lock()
	s.phase = phase
	s.mu.Unlock()
}

// endWindow closes the window and summarizes it.
func (s *sampler) endWindow() report.Summary {
	s.mu.Lock()
	defer s.mu.Unlock()
	var lat [2]stats.Histogram
	p := s.measure(&lat)
	w := s.win
	s.win = nil
	if w == nil {
		return report.Summary{}
	}
	w.audio.Merge(&lat[0])
	w.video.Merge(&lat[1])
	s.prev = p
	return s.summarize(w, p)
}

func (s *sampler) summarize(w *window, p point) report.Summary {
	dt := p.at.Sub(w.start.at).Seconds()
	d := delta(w.start.totals, p.totals)
	out := report.Summary{WindowS: dt, Participants: max(w.participants, p.participants),
		InPPS: float64(d.RTPSent) / dt, OutPPS: float64(fwd(d)) / dt,
		InBPS: 8 * float64(d.RTPSentBytes) / dt, OutBPS: 8 * float64(d.RTPRecvBytes) / dt,
		BridgeCPU: rate(p.bridge.CPUSeconds, w.start.bridge.CPUSeconds, dt), CPUPerPacketUs: -1,
		GeneratorCPU: rate(p.gen, w.start.gen, dt), OtherCPU: s.otherCPU(w.start, p, dt),
		SoftIRQ:         rate(p.softirq, w.start.softirq, dt),
		BridgeReportOut: rate(p.bridge.PacketsOut, w.start.bridge.PacketsOut, dt),
		BridgeDropped:   rate(p.bridge.Dropped, w.start.bridge.Dropped, dt),
		AudioLatency:    w.audio.Summary(), VideoLatency: w.video.Summary(),
		Loss: lossOf(w.start, p), Freezes: p.freezes - min(w.start.freezes, p.freezes),
		RSS: p.bridge.RSS, RSSIdle: s.idleRSS, RSSPerParticipant: -1, Heap: p.bridge.Heap, Goroutines: p.bridge.Goroutines,
		Counters:             counters(d),
		GeneratorSocketDrops: p.genDrops - min(w.start.genDrops, p.genDrops),
		BridgeSocketDrops:    p.bridgeDrops - min(w.start.bridgeDrops, p.bridgeDrops)}
	var all stats.Histogram
	all.Merge(&w.audio)
	all.Merge(&w.video)
	out.Latency = all.Summary()
	out.BridgeIdleCPU, out.CPUPerPacketMarginalUs = s.idleCPU, -1
	if out.BridgeCPU >= 0 && fwd(d) > 0 {
		out.CPUPerPacketUs = out.BridgeCPU * dt * 1e6 / float64(fwd(d))
		if s.idleCPU >= 0 {
			out.CPUPerPacketMarginalUs = max(out.BridgeCPU-s.idleCPU, 0) * dt * 1e6 / float64(fwd(d))
		}
	}
	if p.bridge.RSS >= 0 && s.idleRSS >= 0 && out.Participants > 0 {
		out.RSSPerParticipant = (p.bridge.RSS - s.idleRSS) / float64(out.Participants)
	}
	var rtt stats.Histogram
	streams := 0
	for _, m := range s.e.connectedMembers() {
		for _, st := range m.c.Streams() {
			if st.Kind == client.KindVideo && st.Packets > 0 {
				streams++
				if st.SinceLastFrame > time.Second {
					out.SilentAtEnd++
				}
			}
		}
		if m.sends {
			h := m.c.RTTHistogram()
			rtt.Merge(&h)
		}
	}
	out.RTT = rtt.Summary()
	out.VideoStreams = streams
	if streams > 0 && dt > 0 {
		out.FreezesPerM = float64(out.Freezes) / (float64(streams) * dt / 60)
	}
	return out
}

func delta(a, b client.Totals) client.Totals {
	d := b
	d.RTPSent -= min(a.RTPSent, b.RTPSent)
	d.RTPSentBytes -= min(a.RTPSentBytes, b.RTPSentBytes)
	d.RTPRecv -= min(a.RTPRecv, b.RTPRecv)
	d.RTPRecvBytes -= min(a.RTPRecvBytes, b.RTPRecvBytes)
	d.InducedRecvLoss -= min(a.InducedRecvLoss, b.InducedRecvLoss)
	d.InducedSendLoss -= min(a.InducedSendLoss, b.InducedSendLoss)
	d.Sampled -= min(a.Sampled, b.Sampled)
	d.DecryptErrors -= min(a.DecryptErrors, b.DecryptErrors)
	d.VerifyErrors -= min(a.VerifyErrors, b.VerifyErrors)
	d.NACKSent -= min(a.NACKSent, b.NACKSent)
	d.NACKedSeqs -= min(a.NACKedSeqs, b.NACKedSeqs)
	d.Recovered -= min(a.Recovered, b.Recovered)
	d.PLISent -= min(a.PLISent, b.PLISent)
	d.PLIRecv -= min(a.PLIRecv, b.PLIRecv)
	d.KeyframesSent -= min(a.KeyframesSent, b.KeyframesSent)
	d.RTXRecv -= min(a.RTXRecv, b.RTXRecv)
	d.NACKRecv -= min(a.NACKRecv, b.NACKRecv)
	d.TWCCSent -= min(a.TWCCSent, b.TWCCSent)
	d.TWCCRecv -= min(a.TWCCRecv, b.TWCCRecv)
	d.SendQueueDrops -= min(a.SendQueueDrops, b.SendQueueDrops)
	return d
}

func counters(d client.Totals) report.Counters {
	return report.Counters{Sampled: d.Sampled, DecryptErrors: d.DecryptErrors, VerifyErrors: d.VerifyErrors,
		NACKsSent: d.NACKSent, NACKedPackets: d.NACKedSeqs, Recovered: d.Recovered, PLIsSent: d.PLISent,
		PLIsReceived: d.PLIRecv, KeyframesSent: d.KeyframesSent, RTXReceived: d.RTXRecv, NACKsReceived: d.NACKRecv,
		TWCCSent: d.TWCCSent, TWCCReceived: d.TWCCRecv, InducedLoss: d.InducedRecvLoss + d.InducedSendLoss,
		SendQueueDrops: d.SendQueueDrops}
}

// layers tabulates asked vs received heights over every connected receiver's video streams.
func (s *sampler) layers() []report.LayerRow {
	heights := []string{"180", "360", "720"}
	rows := map[int]*report.LayerRow{}
	for _, m := range s.e.connectedMembers() {
		for _, st := range m.c.Streams() {
			if st.Kind != client.KindVideo || !st.Known || st.Packets == 0 {
				continue
			}
			asked := s.e.o.Scenario.AskedHeight(st.Sender == m.conf.stageSender)
			r := rows[asked]
			if r == nil {
				r = &report.LayerRow{Asked: asked, Received: map[string]uint64{}}
				rows[asked] = r
			}
			r.Streams++
			for e, n := range st.Layers[:len(heights)] {
				r.Received[heights[e]] += n
			}
		}
	}
	out := make([]report.LayerRow, 0, len(rows))
	for _, r := range rows {
		out = append(out, *r)
	}
	report.SortLayers(out)
	return out
}

// series returns a copy of the samples.
func (s *sampler) seriesCopy() []report.Sample {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]report.Sample(nil), s.series...)
}
