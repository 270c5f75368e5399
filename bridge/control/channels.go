package control

import (
	"errors"
	"fmt"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/cityjitsi/videobridge/bridge/channel"
	"github.com/cityjitsi/videobridge/bridge/media"
	"github.com/cityjitsi/videobridge/colibri/bridgechannel"
)

// This file wires the bridge channel (package channel) to the conference registry and the
// media plane: one channel.Hub per conference, one channel.Channel per local endpoint, and
// channelConference as the Hub's channel.Conference.

// ErrNoChannel means the endpoint has no bridge channel (unknown conference or endpoint).
var ErrNoChannel = errors.New("control: no bridge channel")

// channelConference is one conference's bridge-channel state and its channel.Conference.
type channelConference struct {
	id  string
	hub *channel.Hub
	log *zap.Logger
	// speech and after are MediaTransports' counters and timer (pre-emptive keyframes).
	speech *speechCounters
	// router is the conference's routing input as last published; owned by the conference
	// worker (ConferenceChanged).
	router routerMemo
	after  func(time.Duration, func())
	// info is the conference's latest published snapshot (ConferenceChanged).
	info atomic.Pointer[ConferenceInfo]

	mu  sync.Mutex // guards eps
	eps map[string]*media.Endpoint

	// types holds SourceVideoTypeMessage values, by source name; owned by the hub goroutine
	// (the channel.Conference methods run there, one at a time).
	types map[string]videoTypeOverride
}

// videoTypeOverride is a source's type as its owner last set it on the bridge channel. A
// later colibri2 change of the signaled type wins (the latest of the two applies, media.md
// §1.3), so the signaled type at the time of the message is kept to notice that change.
type videoTypeOverride struct {
	owner    string
	t        bridgechannel.VideoType
	signaled VideoType
}

func newChannelConference(id string, plane *media.Plane, speech *speechCounters, after func(time.Duration, func()),
	o channel.Options) *channelConference {
	cc := &channelConference{id: id, log: o.Log, speech: speech, after: after,
		eps: map[string]*media.Endpoint{}, types: map[string]videoTypeOverride{}}
	// The speaker levels come from the media path with the plane's clock.
	o.Now = plane.Now
	cc.hub = channel.NewHub(cc, o)
	return cc
}

// addEndpoint creates the endpoint's bridge channel and connects the media endpoint to it:
// audio levels to its Speaker, the DTLS connection to the SCTP server when the endpoint asked
// for a data channel, forwarded sources and activity to the Hub.
func (cc *channelConference) addEndpoint(ep *media.Endpoint, opts EndpointTransportOptions) (*channel.Channel, error) {
	id := ep.ID()
	ch, err := cc.hub.AddEndpoint(id, opts.Visitor)
	if err != nil {
		return nil, err
	}
	cc.mu.Lock()
	cc.eps[id] = ep
	cc.mu.Unlock()
	log := cc.log.With(zap.String("conf_id", cc.id), zap.String("endpoint", id))
	ep.SetHooks(media.Hooks{
		Speaker: ch.Speaker(),
		OnDTLSConnected: func(conn net.Conn) {
			if !opts.SCTP {
				return // no m=application: the client uses colibri-ws, if anything
			}
			go func() {
				if err := ch.ServeSCTP(conn); err != nil {
					log.Debug("SCTP data channel ended", zap.Error(err))
				}
			}()
		},
		OnForwardedSources: func(s []string) { cc.hub.SetForwardedSources(id, s) },
		OnActive:           func(active bool) { cc.hub.SetEndpointActive(id, active) },
	})
	return ch, nil
}

// removeEndpoint closes the endpoint's channel (its WebSocket gets 1001) and forgets ep.
func (cc *channelConference) removeEndpoint(ep *media.Endpoint) {
	cc.hub.RemoveEndpoint(ep.ID())
	cc.mu.Lock()
	if cc.eps[ep.ID()] == ep {
		delete(cc.eps, ep.ID())
	}
	cc.mu.Unlock()
}

func (cc *channelConference) endpoint(id string) *media.Endpoint {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	return cc.eps[id]
}

// update follows a published snapshot: changed video sources make the Hub recompute, and a
// changed colibri2 initial-last-n is applied.
func (cc *channelConference) update(info *ConferenceInfo) {
	old := cc.info.Swap(info)
	for i := range info.Endpoints {
		ep := &info.Endpoints[i]
		if ep.InitialLastN == nil {
			continue
		}
		if prev, ok := old.endpointLastN(ep.ID); ok && prev == *ep.InitialLastN {
			continue
		}
		if ch, ok := cc.hub.Channel(ep.ID); ok {
			ch.SetInitialLastN(*ep.InitialLastN)
		}
	}
	if old == nil || !slices.Equal(signaledVideo(old), signaledVideo(info)) {
		cc.hub.SourcesChanged()
	}
}

// endpointLastN returns the endpoint's initial-last-n in the snapshot, if signaled.
func (ci *ConferenceInfo) endpointLastN(id string) (int, bool) {
	if ci == nil {
		return 0, false
	}
	if ep, ok := ci.Endpoint(id); ok && ep.InitialLastN != nil {
		return *ep.InitialLastN, true
	}
	return 0, false
}

// signaledVideo lists the snapshot's video sources with their colibri2 video types.
func signaledVideo(info *ConferenceInfo) []channel.Source {
	var out []channel.Source
	for i := range info.Endpoints {
		ep := &info.Endpoints[i]
		for _, vs := range ep.Sources.Video {
			out = append(out, channel.Source{Name: vs.Name, Owner: ep.ID, Type: bridgechannel.VideoType(vs.VideoType)})
		}
	}
	return out
}

// VideoSources implements channel.Conference: the local endpoints' video sources in creation
// and signaled order, with the types set over the bridge channel where they still apply.
func (cc *channelConference) VideoSources() []channel.Source {
	info := cc.info.Load()
	if info == nil {
		return nil
	}
	out := signaledVideo(info)
	for i := range out {
		s := &out[i]
		o, ok := cc.types[s.Name]
		switch {
		case !ok:
		case o.owner == s.Owner && VideoType(s.Type) == o.signaled:
			s.Type = o.t
		default:
			delete(cc.types, s.Name) // colibri2 changed the type (or the owner) since
		}
	}
	return out
}

// SetVideoType implements channel.Conference (SourceVideoTypeMessage).
func (cc *channelConference) SetVideoType(owner, source string, t bridgechannel.VideoType) {
	info := cc.info.Load()
	if info == nil {
		return
	}
	if ep, ok := info.Endpoint(owner); ok {
		for _, vs := range ep.Sources.Video {
			if vs.Name == source {
				cc.types[source] = videoTypeOverride{owner: owner, t: t, signaled: vs.VideoType}
			}
		}
	}
}

// ApplyConstraints implements channel.Conference: the receiver's effective per-source heights
// become its media constraints. The Hub lists every source the receiver may get (last-N and
// defaults already applied), so a source it does not list gets nothing.
func (cc *channelConference) ApplyConstraints(receiver string, c channel.Constraints) {
	ep := cc.endpoint(receiver)
	if ep == nil {
		return
	}
	per := make(map[string]int, len(c.Sources))
	for _, s := range c.Sources {
		per[s.Name] = s.MaxHeight
	}
	ep.SetConstraints(0, per)
}

// ForwardedSources implements channel.Conference.
func (cc *channelConference) ForwardedSources(receiver string) []string {
	if ep := cc.endpoint(receiver); ep != nil {
		return ep.ForwardedSources()
	}
	return []string{}
}

// SetAudioSubscription implements channel.Conference: the receiver's media endpoint filters
// the audio fanned out to it (media.md §1.3).
func (cc *channelConference) SetAudioSubscription(receiver string, s bridgechannel.ReceiverAudioSubscription) {
	ep := cc.endpoint(receiver)
	if ep == nil {
		return
	}
	ep.SetAudioSubscription(s.All, s.Include, s.Exclude)
}

// BandwidthEstimate implements channel.Conference: there is no send-side estimator yet, so
// ConnectionStats is not sent.
func (cc *channelConference) BandwidthEstimate(string) int64 { return -1 }

// DominantSpeakerChanged implements channel.Conference: it counts the change and, when the
// Hub decided so, asks the new speaker for a keyframe after the RTT-based delay (media.md
// §2.6). A later change does not cancel a pending request (neither does JVB's).
func (cc *channelConference) DominantSpeakerChanged(endpoint string, kf channel.PreemptiveKeyframe) {
	cc.speech.changes.Add(1)
	switch kf {
	case channel.KeyframeSuppressed:
		cc.speech.kfrSuppressed.Add(1)
	case channel.KeyframeRequested:
		cc.speech.kfrSent.Add(1) // when scheduled, as JVB counts
		ep := cc.endpoint(endpoint)
		if ep == nil {
			return
		}
		request := func() { ep.RequestKeyframe() }
		if d := ep.PreemptiveKeyframeDelay(); d > 0 {
			cc.after(d, request)
		} else {
			request()
		}
	}
}

// channelConference returns the bridge-channel state of a conference, creating it when create
// is set.
func (f *MediaTransports) channelConference(confID string, create bool) *channelConference {
	f.mu.Lock()
	defer f.mu.Unlock()
	cc := f.confs[confID]
	if cc == nil && create {
		if f.confs == nil {
			f.confs = map[string]*channelConference{}
		}
		log := f.Log
		if log == nil {
			log = zap.NewNop()
		}
		after := f.AfterFunc
		if after == nil {
			after = func(d time.Duration, fn func()) { time.AfterFunc(d, fn) }
		}
		cc = newChannelConference(confID, f.Plane, &f.speech, after, channel.Options{Log: log, LastNLimit: f.LastNLimit})
		f.confs[confID] = cc
	}
	return cc
}

// closeChannels stops a conference's Hub (its endpoints' channels are already closed). The
// Hub's goroutines may still be finishing a write to a slow client, so the conference
// worker does not wait for them.
func (f *MediaTransports) closeChannels(confID string) {
	f.mu.Lock()
	cc := f.confs[confID]
	delete(f.confs, confID)
	f.mu.Unlock()
	if cc != nil {
		go cc.hub.Close()
	}
}

// Channel returns the bridge channel of endpoint epID in conference confID (bridge-internal
// id), for the colibri-ws server.
func (f *MediaTransports) Channel(confID, epID string) (*channel.Channel, bool) {
	if cc := f.channelConference(confID, false); cc != nil {
		return cc.hub.Channel(epID)
	}
	return nil, false
}

// Deliver handles msg as if endpoint epID of conference confID had sent it on its bridge
// channel, once the conference's Hub has acted on it (channel.Hub.Deliver).
func (f *MediaTransports) Deliver(confID, epID string, msg []byte) error {
	cc := f.channelConference(confID, false)
	if cc == nil {
		return fmt.Errorf("%w: %s/%s", ErrNoChannel, confID, epID)
	}
	err := cc.hub.Deliver(epID, msg)
	if errors.Is(err, channel.ErrUnknownEndpoint) {
		return fmt.Errorf("%w: %w", ErrNoChannel, err)
	}
	return err
}
