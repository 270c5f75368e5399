package control

import (
	"slices"
	"strings"

	"github.com/cityjitsi/videobridge/colibri/colibri2"
)

// Sources is an endpoint's full signaled source set; every <sources/> replaces it (pitfall 9).
type Sources struct {
	Audio []AudioSource
	Video []VideoSource
}

// AudioSource is one audio SSRC of a named audio source.
type AudioSource struct {
	Name      string // media-source id, e.g. "79f0273e-a0"
	SSRC      uint32
	Synthetic bool
}

// VideoSource is one named video source (camera or screen share).
type VideoSource struct {
	Name      string // media-source id, e.g. "79f0273e-v0"
	VideoType VideoType
	Synthetic bool
	// Encodings are the simulcast layers, low to high (the SIM group order); a source without
	// simulcast has one.
	Encodings []Encoding
}

// Encoding is one RTP stream of a video source.
type Encoding struct {
	SSRC uint32
	RTX  uint32 // the FID-paired retransmission SSRC; 0 when none
	RID  string
}

// VideoType is JVB's VideoType enum name.
type VideoType string

// Video types JVB accepts (the signaled value upper-cased).
const (
	VideoTypeCamera         VideoType = "CAMERA"
	VideoTypeDesktop        VideoType = "DESKTOP"
	VideoTypeDesktopHighFPS VideoType = "DESKTOP_HIGH_FPS"
	VideoTypeDisabled       VideoType = "DISABLED"
)

// Empty reports whether no source is signaled.
func (s Sources) Empty() bool { return len(s.Audio) == 0 && len(s.Video) == 0 }

// parseSources converts a signaled <sources/> the way JVB's Colibri2ConferenceHandler and
// MediaSourceFactory do: every audio <source> is an audio source; each video media-source
// becomes one video source; media-sources of other types are ignored.
func parseSources(s *colibri2.Sources) Sources {
	var out Sources
	for i := range s.MediaSources {
		ms := &s.MediaSources[i]
		switch ms.Type {
		case "audio":
			for _, src := range ms.Sources {
				out.Audio = append(out.Audio, AudioSource{Name: ms.ID, SSRC: src.SSRC, Synthetic: ms.Synthetic})
			}
		case "video":
			if v, ok := parseVideoSource(ms); ok {
				out.Video = append(out.Video, v)
			}
		}
	}
	return out
}

// parseVideoSource picks the source's primary SSRCs as JVB's MediaSourceFactory does: the SIM
// group's SSRCs if there is one, else the first FID group's primary, else the first SSRC. Only
// FID pairs become secondaries (JVB maps no other group semantics to an encoding).
func parseVideoSource(ms *colibri2.MediaSource) (VideoSource, bool) {
	var sim, fid []uint32
	rtx := map[uint32]uint32{}
	for _, g := range ms.SSRCGroups {
		if len(g.SSRCs) == 0 {
			continue
		}
		switch strings.ToUpper(g.Semantics) {
		case "SIM":
			if sim == nil {
				sim = g.SSRCs
			}
		case "FID":
			if len(g.SSRCs) >= 2 {
				fid = append(fid, g.SSRCs[0])
				if _, dup := rtx[g.SSRCs[0]]; !dup {
					rtx[g.SSRCs[0]] = g.SSRCs[1]
				}
			}
		}
	}
	primaries := sim
	switch {
	case primaries != nil:
	case len(fid) > 0:
		primaries = fid[:1]
	case len(ms.Sources) > 0:
		primaries = []uint32{ms.Sources[0].SSRC}
	default:
		return VideoSource{}, false
	}
	v := VideoSource{Name: ms.ID, VideoType: videoType(ms.Sources), Synthetic: ms.Synthetic}
	v.Encodings = make([]Encoding, 0, len(primaries))
	for _, ssrc := range primaries {
		e := Encoding{SSRC: ssrc, RTX: rtx[ssrc]}
		if i := slices.IndexFunc(ms.Sources, func(s colibri2.Source) bool { return s.SSRC == ssrc }); i >= 0 {
			e.RID = ms.Sources[i].RID
		}
		v.Encodings = append(v.Encodings, e)
	}
	return v, true
}

// videoType is the first signaled videoType, upper-cased (Jicofo sends camera/desktop). JVB
// fails the request on an unknown name; CAMERA (its default) is the kinder answer.
func videoType(srcs []colibri2.Source) VideoType {
	for _, s := range srcs {
		if s.VideoType == "" {
			continue
		}
		switch vt := VideoType(strings.ToUpper(s.VideoType)); vt {
		case VideoTypeCamera, VideoTypeDesktop, VideoTypeDesktopHighFPS, VideoTypeDisabled:
			return vt
		}
		return VideoTypeCamera
	}
	return VideoTypeCamera
}
