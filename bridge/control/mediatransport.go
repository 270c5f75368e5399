package control

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/cityjitsi/videobridge/bridge/media"
	"github.com/cityjitsi/videobridge/bridge/router"
	"github.com/cityjitsi/videobridge/bridge/transport/dtls"
	"github.com/cityjitsi/videobridge/bridge/transport/endpoint"
	"github.com/cityjitsi/videobridge/bridge/transport/ice"
	"github.com/cityjitsi/videobridge/colibri/bridgechannel"
)

// ConferenceObserver is implemented by a TransportFactory that wants every published
// conference snapshot (the media plane rebuilds its routing from it). It is called on the
// conference's worker, in order, and must not block or call back into the Videobridge.
type ConferenceObserver interface {
	ConferenceChanged(info *ConferenceInfo)
}

// ConstraintsSetter is implemented by an EndpointTransport that forwards video under receiver
// constraints (ReceiverVideoConstraints' maxHeight).
type ConstraintsSetter interface {
	SetReceiverConstraints(defaultMaxHeight int, perSource map[string]int)
}

// MediaStatsProvider is implemented by a TransportFactory that can report media totals for
// /colibri/stats.
type MediaStatsProvider interface {
	MediaStats() MediaStats
}

// MediaStats are the media-derived /colibri/stats values (JVB units: kbit/s, packets/s).
type MediaStats struct {
	BitRateDownloadKbps, BitRateUploadKbps       int64
	PacketRateDownload, PacketRateUpload         int64
	BytesReceived, BytesSent                     int64
	PacketsReceived, PacketsSent                 int64
	EndpointsSendingAudio, EndpointsSendingVideo int64
	RTTAggregateMs                               float64 // mean endpoint RTT (rtt_aggregate)
	DominantSpeakerChanges                       int64
	PreemptiveKFRSent, PreemptiveKFRSuppressed   int64
}

// Sentinel errors of SetReceiverConstraints.
var (
	ErrNoSuchConference = errors.New("control: no such conference")
	ErrNoSuchEndpoint   = errors.New("control: no such endpoint")
	ErrNoConstraints    = errors.New("control: endpoint transport takes no constraints")
)

// SetReceiverConstraints sets endpoint epID's video constraints in conference confID
// (bridge-internal id): the max height of sources not in perSource (0: none, -1: unlimited)
// and per source name. JVB's default before any is 0, so a receiver gets no video until
// constraints arrive (media.md pitfall 2). Clients send them on the bridge channel; this is
// for tools and tests without one (the media transports apply it as a ReceiverVideoConstraints
// from the endpoint, so last-N and sender constraints see it).
func (v *Videobridge) SetReceiverConstraints(confID, epID string, defaultMaxHeight int, perSource map[string]int) error {
	info, ok := v.ConferenceByID(confID)
	if !ok {
		return fmt.Errorf("%w: %s", ErrNoSuchConference, confID)
	}
	ep, ok := info.Endpoint(epID)
	if !ok {
		return fmt.Errorf("%w: %s/%s", ErrNoSuchEndpoint, confID, epID)
	}
	cs, ok := ep.Transport.(ConstraintsSetter)
	if !ok {
		return fmt.Errorf("%w: %s/%s", ErrNoConstraints, confID, epID)
	}
	cs.SetReceiverConstraints(defaultMaxHeight, perSource)
	return nil
}

// applyMediaStats fills the media-derived values of stats when the transport factory reports
// them.
func (v *Videobridge) applyMediaStats(stats []Stat) {
	p, ok := v.opts.Transports.(MediaStatsProvider)
	if !ok {
		return
	}
	m := p.MediaStats()
	values := map[string]int64{
		"bit_rate_download": m.BitRateDownloadKbps, "bit_rate_upload": m.BitRateUploadKbps,
		"packet_rate_download": m.PacketRateDownload, "packet_rate_upload": m.PacketRateUpload,
		"total_bytes_received": m.BytesReceived, "total_bytes_sent": m.BytesSent,
		"total_packets_received": m.PacketsReceived, "total_packets_sent": m.PacketsSent,
		"endpoints_sending_audio": m.EndpointsSendingAudio, "endpoints_sending_video": m.EndpointsSendingVideo,
		"total_dominant_speaker_changes": m.DominantSpeakerChanges,
		"preemptive_kfr_sent":            m.PreemptiveKFRSent, "preemptive_kfr_suppressed": m.PreemptiveKFRSuppressed,
	}
	for i := range stats {
		if x, ok := values[stats[i].Name]; ok {
			stats[i].Value = x
		}
		if stats[i].Name == "rtt_aggregate" {
			stats[i].Value = m.RTTAggregateMs
		}
	}
}

// MediaTransports is the TransportFactory of the real data plane: every endpoint gets
// ICE/DTLS/SRTP on the shared socket (bridge/media on bridge/transport/endpoint) and forwards
// media as its conference's sources and its receivers' constraints say.
type MediaTransports struct {
	Plane       *media.Plane
	Certificate *dtls.Certificate
	// Candidates are the bridge's harvested candidates, shared by all endpoints.
	Candidates []ice.Candidate
	// UfragPrefix is videobridge.ice.ufrag-prefix.
	UfragPrefix string
	// AdvertisePrivate is videobridge.ice.advertise-private-candidates.
	AdvertisePrivate bool
	// LastNLimit caps every receiver's last-N (channel.Options.LastNLimit: 0 is the default
	// cap, negative none).
	LastNLimit int
	// Log is for the bridge channels; nil logs nothing.
	Log *zap.Logger
	// AfterFunc runs f after d (a pre-emptive keyframe request's delay); nil means
	// time.AfterFunc.
	AfterFunc func(d time.Duration, f func())

	mu    sync.Mutex // guards confs
	confs map[string]*channelConference
	// speech counts the conferences' dominant speaker changes and what they did about
	// keyframes (total_dominant_speaker_changes, preemptive_kfr_sent/_suppressed).
	speech speechCounters
}

// speechCounters are the bridge-wide dominant speaker statistics.
type speechCounters struct {
	changes, kfrSent, kfrSuppressed atomic.Int64
}

// NewEndpointTransport implements TransportFactory.
func (f *MediaTransports) NewEndpointTransport(confID, epID string, opts EndpointTransportOptions) (EndpointTransport, error) {
	if f.Certificate == nil {
		return nil, fmt.Errorf("endpoint %s/%s: %w", confID, epID, ErrNoCertificate)
	}
	creds := ice.NewCredentials(f.UfragPrefix)
	ep, err := f.Plane.Conference(confID).NewEndpoint(epID, creds)
	if err != nil {
		return nil, fmt.Errorf("endpoint %s/%s: %w", confID, epID, err)
	}
	// The bridge channel exists before the transport can connect: the SCTP server starts
	// when DTLS does, and colibri-ws connects once Jicofo has the answer.
	cc := f.channelConference(confID, true)
	if _, err := cc.addEndpoint(ep, opts); err != nil {
		ep.Close()
		return nil, fmt.Errorf("endpoint %s/%s: %w", confID, epID, err)
	}
	return &mediaTransport{ep: ep, cc: cc, local: LocalTransport{
		Ufrag: creds.Ufrag, Pwd: creds.Pwd,
		Fingerprint: Fingerprint{Hash: dtls.FingerprintHash, Value: f.Certificate.Fingerprint},
		Candidates:  ice.Advertised(f.Candidates, f.AdvertisePrivate, opts.PrivateAddressConnectivity),
	}}, nil
}

// ConferenceChanged implements ConferenceObserver: the media plane's routing follows every
// published snapshot; a conference without endpoints (expired, or not yet populated) has none.
func (f *MediaTransports) ConferenceChanged(info *ConferenceInfo) {
	if len(info.Endpoints) == 0 {
		f.Plane.RemoveConference(info.ID)
		f.closeChannels(info.ID)
		return
	}
	cc := f.channelConference(info.ID, false)
	var cfg router.Config
	if cc != nil {
		cfg = cc.router.config(info)
	} else {
		cfg = RouterConfig(info)
	}
	f.Plane.Conference(info.ID).Update(cfg, info.Feedback.VideoSSRC)
	if cc != nil {
		cc.update(info)
	}
}

// MediaStats implements MediaStatsProvider.
func (f *MediaTransports) MediaStats() MediaStats {
	s, r := f.Plane.Stats(), f.Plane.Rates()
	i := func(u uint64) int64 { return int64(min(u, 1<<62)) }
	return MediaStats{
		BitRateDownloadKbps: i(r.BitsPerSecondIn / 1000), BitRateUploadKbps: i(r.BitsPerSecondOut / 1000),
		PacketRateDownload: i(r.PacketsPerSecondIn), PacketRateUpload: i(r.PacketsPerSecondOut),
		BytesReceived: i(s.BytesReceived), BytesSent: i(s.BytesSent),
		PacketsReceived: i(s.RTPReceived), PacketsSent: i(s.RTPSent),
		EndpointsSendingAudio: int64(r.EndpointsSendingAudio), EndpointsSendingVideo: int64(r.EndpointsSendingVideo),
		RTTAggregateMs:         r.RTTAggregateMs,
		DominantSpeakerChanges: f.speech.changes.Load(),
		PreemptiveKFRSent:      f.speech.kfrSent.Load(), PreemptiveKFRSuppressed: f.speech.kfrSuppressed.Load(),
	}
}

// mediaTransport is one endpoint's EndpointTransport on the media plane.
type mediaTransport struct {
	ep    *media.Endpoint
	cc    *channelConference
	local LocalTransport
}

func (t *mediaTransport) Local() LocalTransport { return t.local }

func (t *mediaTransport) SetRemote(r RemoteTransport) error {
	role := dtls.RoleUnknown
	switch r.Role {
	case DTLSRoleServer:
		role = dtls.RoleServer
	case DTLSRoleClient:
		role = dtls.RoleClient
	}
	return t.ep.SetRemote(endpoint.Remote{Ufrag: r.Ufrag, Pwd: r.Pwd, Fingerprints: r.Fingerprints, Role: role,
		Candidates: r.Candidates})
}

// Close closes the bridge channel first (the WebSocket gets 1001 "endpoint closed" and the
// SCTP server stops reading), then the media endpoint and its DTLS connection.
func (t *mediaTransport) Close() {
	t.cc.removeEndpoint(t.ep)
	t.ep.Close()
}

// SetReceiverConstraints implements ConstraintsSetter: the values go through the bridge
// channel's Hub as a ReceiverVideoConstraints from the endpoint, so that last-N, the sender
// constraints and later messages see them.
func (t *mediaTransport) SetReceiverConstraints(defaultMaxHeight int, perSource map[string]int) {
	m := &bridgechannel.ReceiverVideoConstraints{
		DefaultConstraints: &bridgechannel.VideoConstraints{MaxHeight: defaultMaxHeight,
			MaxFrameRate: bridgechannel.NoFrameRateConstraint},
		Constraints: make(map[string]bridgechannel.VideoConstraints, len(perSource)),
	}
	for name, h := range perSource {
		m.Constraints[name] = bridgechannel.VideoConstraints{MaxHeight: h, MaxFrameRate: bridgechannel.NoFrameRateConstraint}
	}
	_ = t.cc.hub.Deliver(t.ep.ID(), bridgechannel.Marshal(m)) // fails only once the endpoint is gone
}

// RouterConfig converts a conference snapshot to the router's input.
func RouterConfig(info *ConferenceInfo) router.Config {
	var m routerMemo
	return m.config(info)
}

// routerMemo keeps each endpoint's router input between snapshots of one conference. Every
// change (a join, its sources, a leave) republishes the whole conference, and converting
// every endpoint again made a join storm quadratic: 10 % of the bridge's CPU while 50
// endpoints a second joined a lecture of 300. Endpoint's slices are replaced, never modified
// in place, so the same backing arrays (and lengths) mean the same content.
type routerMemo struct {
	byID map[string]*memoEntry
	gen  uint64 // counts config calls; an entry not seen in the latest is forgotten
}

type memoEntry struct {
	key  routerKey
	cfg  router.EndpointConfig
	seen uint64
}

// routerKey is what routerEndpoint reads of an Endpoint, its slices by identity.
type routerKey struct {
	visitor                bool
	forceMute              ForceMute
	pts                    *PayloadType
	hes                    *HeaderExtension
	audio                  *AudioSource
	video                  *VideoSource
	nPT, nHE, nAudio, nVid int
}

func keyOf(ep *Endpoint) routerKey {
	return routerKey{visitor: ep.Visitor, forceMute: ep.ForceMute,
		pts: first(ep.Media.PayloadTypes), hes: first(ep.Media.HeaderExtensions),
		audio: first(ep.Sources.Audio), video: first(ep.Sources.Video),
		nPT: len(ep.Media.PayloadTypes), nHE: len(ep.Media.HeaderExtensions),
		nAudio: len(ep.Sources.Audio), nVid: len(ep.Sources.Video)}
}

func first[T any](s []T) *T {
	if len(s) == 0 {
		return nil
	}
	return &s[0]
}

// config converts info, reusing the conversion of every endpoint unchanged since the last
// call, and forgets the endpoints info no longer has.
func (m *routerMemo) config(info *ConferenceInfo) router.Config {
	if m.byID == nil {
		m.byID = make(map[string]*memoEntry, len(info.Endpoints))
	}
	m.gen++
	cfg := router.Config{Endpoints: make([]router.EndpointConfig, 0, len(info.Endpoints))}
	for i := range info.Endpoints {
		ep := &info.Endpoints[i]
		k := keyOf(ep)
		e, ok := m.byID[ep.ID]
		if !ok || e.key != k {
			e = &memoEntry{key: k, cfg: routerEndpoint(ep)}
			m.byID[ep.ID] = e
		}
		e.seen = m.gen
		cfg.Endpoints = append(cfg.Endpoints, e.cfg)
	}
	if len(m.byID) > len(info.Endpoints) { // some left: forget them
		for id, e := range m.byID {
			if e.seen != m.gen {
				delete(m.byID, id)
			}
		}
	}
	return cfg
}

func routerEndpoint(ep *Endpoint) router.EndpointConfig {
	ec := router.EndpointConfig{ID: ep.ID, Visitor: ep.Visitor,
		ForceMuteAudio: ep.ForceMute.Audio, ForceMuteVideo: ep.ForceMute.Video}
	for _, pt := range ep.Media.PayloadTypes {
		rp := router.PayloadType{PT: pt.ID, Kind: router.KindOf(pt.MediaType), Name: pt.Name, ClockRate: pt.ClockRate, APT: -1}
		for _, p := range pt.Parameters {
			if strings.EqualFold(p.Name, "apt") {
				if apt, err := strconv.Atoi(strings.TrimSpace(p.Value)); err == nil {
					rp.APT = apt
				}
			}
		}
		for _, fb := range pt.RTCPFbs {
			switch typ, sub := strings.ToLower(fb.Type), strings.ToLower(fb.Subtype); {
			case typ == "nack" && sub == "":
				rp.NACK = true
			case typ == "nack" && sub == "pli":
				rp.PLI = true
			case typ == "ccm" && sub == "fir":
				rp.FIR = true
			case typ == "transport-cc":
				rp.TransportCC = true
			}
		}
		ec.PayloadTypes = append(ec.PayloadTypes, rp)
	}
	for _, he := range ep.Media.HeaderExtensions {
		if he.ID > 0 && he.ID < 256 {
			ec.HeaderExtensions = append(ec.HeaderExtensions, router.HeaderExtension{ID: uint8(he.ID), URI: he.URI})
		}
	}
	for _, a := range ep.Sources.Audio {
		ec.Audio = append(ec.Audio, router.AudioSource{Name: a.Name, SSRC: a.SSRC})
	}
	for _, vs := range ep.Sources.Video {
		rv := router.VideoSource{Name: vs.Name}
		for _, e := range vs.Encodings {
			rv.Encodings = append(rv.Encodings, router.Encoding{SSRC: e.SSRC, RTX: e.RTX})
		}
		ec.Video = append(ec.Video, rv)
	}
	return ec
}
