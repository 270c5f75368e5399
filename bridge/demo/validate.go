package demo

import (
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/cityjitsi/videobridge/colibri/colibri2"
)

// Limits on what a page may send. They are generous for a browser (Chrome offers one or two
// host candidates per interface and, with simulcast, six video SSRCs) and small enough that a
// misbehaving page cannot make the focus or the bridge hold much.
const (
	maxRoomLen          = 64
	maxNameRunes        = 64
	maxFingerprints     = 4
	maxCandidates       = 16
	maxFoundationLen    = 32
	maxSimulcastLayers  = 3
	maxVideoSSRCs       = 2 * maxSimulcastLayers // each layer with its RTX
	maxVideoGroups      = 1 + maxSimulcastLayers // SIM plus one FID per layer
	minUfragLen         = 4                      // RFC 8839 §5.4
	maxUfragLen         = 256
	minPwdLen           = 22
	maxPwdLen           = 256
	maxCandidatePortNum = 65535
)

// validRoom checks a room name and returns it lower-cased, since Jitsi Meet room names are
// case-insensitive (they become MUC node names).
func validRoom(name string) (string, *pageError) {
	const rule = "room names are 1 to 64 letters, digits, '-', '_' or '.'"
	if name == "" || len(name) > maxRoomLen {
		return "", errPage(codeInvalidRoom, "%s", rule)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return "", errPage(codeInvalidRoom, "%s", rule)
		}
	}
	return strings.ToLower(name), nil
}

// validDisplayName trims a display name and checks it is 1–64 printable characters.
func validDisplayName(name string) (string, *pageError) {
	name = strings.TrimSpace(name)
	n := utf8.RuneCountInString(name)
	if n == 0 || n > maxNameRunes || !utf8.ValidString(name) {
		return "", errPage(codeInvalidName, "display names are 1 to %d characters", maxNameRunes)
	}
	for _, r := range name {
		if unicode.IsControl(r) || r == utf8.RuneError {
			return "", errPage(codeInvalidName, "display names cannot contain control characters")
		}
	}
	return name, nil
}

// isICEChars reports whether s is made of RFC 8839 ice-chars (ALPHA / DIGIT / "+" / "/").
func isICEChars(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '+' || c == '/') {
			return false
		}
	}
	return true
}

// fingerprintBytes is the digest size of each hash function a DTLS fingerprint may use
// (RFC 8122 §5).
var fingerprintBytes = map[string]int{"sha-1": 20, "sha-224": 28, "sha-256": 32, "sha-384": 48, "sha-512": 64}

// answeredTransport checks the transport of the page's answer and converts it to the colibri2
// ICE-UDP transport Jicofo forwards after session-accept (signaling.md §4.3).
func answeredTransport(t *wireTransport) (*colibri2.ICEUDPTransport, *pageError) {
	if t == nil {
		return nil, errPage(codeInvalidTransport, "the answer has no transport")
	}
	if len(t.Ufrag) < minUfragLen || len(t.Ufrag) > maxUfragLen || !isICEChars(t.Ufrag) {
		return nil, errPage(codeInvalidTransport, "ice-ufrag must be %d to %d ice-chars", minUfragLen, maxUfragLen)
	}
	if len(t.Pwd) < minPwdLen || len(t.Pwd) > maxPwdLen || !isICEChars(t.Pwd) {
		return nil, errPage(codeInvalidTransport, "ice-pwd must be %d to %d ice-chars", minPwdLen, maxPwdLen)
	}
	if len(t.WebSockets) > 0 {
		return nil, errPage(codeInvalidTransport, "an answer carries no web-socket URLs")
	}
	out := &colibri2.ICEUDPTransport{Ufrag: t.Ufrag, Pwd: t.Pwd, RTCPMux: true}
	if len(t.Fingerprints) == 0 || len(t.Fingerprints) > maxFingerprints {
		return nil, errPage(codeInvalidTransport, "the answer needs 1 to %d DTLS fingerprints", maxFingerprints)
	}
	for _, f := range t.Fingerprints {
		fp, err := answeredFingerprint(f)
		if err != nil {
			return nil, err
		}
		out.Fingerprints = append(out.Fingerprints, fp)
	}
	if len(t.Candidates) > maxCandidates {
		return nil, errPage(codeInvalidTransport, "at most %d candidates", maxCandidates)
	}
	for i, c := range t.Candidates {
		cand, err := answeredCandidate(c)
		if err != nil {
			err.Message = "candidate " + strconv.Itoa(i) + ": " + err.Message
			return nil, err
		}
		out.Candidates = append(out.Candidates, cand)
	}
	return out, nil
}

// answeredFingerprint checks one a=fingerprint with its a=setup. The bridge offers actpass, so
// the answer must pick a role (RFC 5763 §5): active (Chrome's choice) makes the bridge the DTLS
// server, passive its client; JVB rejects actpass in an answer.
func answeredFingerprint(f wireFingerprint) (colibri2.Fingerprint, *pageError) {
	hash := strings.ToLower(f.Hash)
	size, ok := fingerprintBytes[hash]
	if !ok {
		return colibri2.Fingerprint{}, errPage(codeInvalidTransport, "unsupported fingerprint hash %q", clip(f.Hash))
	}
	setup := strings.ToLower(f.Setup)
	if setup != "active" && setup != "passive" {
		return colibri2.Fingerprint{}, errPage(codeInvalidTransport,
			"setup must be active or passive in an answer, not %q", clip(f.Setup))
	}
	value := strings.ToUpper(f.Value)
	if !isFingerprintHex(value, size) {
		return colibri2.Fingerprint{}, errPage(codeInvalidTransport,
			"a %s fingerprint is %d colon-separated hex bytes", hash, size)
	}
	return colibri2.Fingerprint{Hash: hash, Setup: setup, Fingerprint: value}, nil
}

// isFingerprintHex reports whether v is n upper-case hex bytes separated by colons (RFC 8122 §5).
func isFingerprintHex(v string, n int) bool {
	if len(v) != 3*n-1 {
		return false
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if i%3 == 2 {
			if c != ':' {
				return false
			}
		} else if !(c >= '0' && c <= '9' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

var candidateTypes = []string{"host", "srflx", "prflx", "relay"}

// answeredCandidate checks one UDP candidate. Only IP literals are accepted: the page drops
// mDNS (.local) and TCP candidates, which the bridge cannot use (it learns such clients
// peer-reflexively, signaling.md §4.3).
func answeredCandidate(c wireCandidate) (colibri2.Candidate, *pageError) {
	switch {
	case c.Foundation == "" || len(c.Foundation) > maxFoundationLen || !isICEChars(c.Foundation):
		return colibri2.Candidate{}, errPage(codeInvalidTransport, "the foundation must be 1 to %d ice-chars", maxFoundationLen)
	case c.Component != 1:
		return colibri2.Candidate{}, errPage(codeInvalidTransport, "component must be 1 (rtcp-mux)")
	case !strings.EqualFold(c.Protocol, "udp"):
		return colibri2.Candidate{}, errPage(codeInvalidTransport, "only UDP candidates are used")
	case c.Port < 1 || c.Port > maxCandidatePortNum:
		return colibri2.Candidate{}, errPage(codeInvalidTransport, "port %d out of range", c.Port)
	case !slices.Contains(candidateTypes, strings.ToLower(c.Type)):
		return colibri2.Candidate{}, errPage(codeInvalidTransport, "unknown candidate type %q", clip(c.Type))
	case c.Generation < 0 || c.Generation > 255:
		return colibri2.Candidate{}, errPage(codeInvalidTransport, "generation %d out of range", c.Generation)
	}
	ip, err := netip.ParseAddr(c.IP)
	if err != nil || ip.Zone() != "" {
		return colibri2.Candidate{}, errPage(codeInvalidTransport, "address %q is not an IP literal", clip(c.IP))
	}
	out := colibri2.Candidate{Component: 1, Foundation: c.Foundation, Generation: c.Generation,
		Priority: c.Priority, Protocol: "udp", Type: strings.ToLower(c.Type), IP: ip.String(), Port: c.Port}
	if c.RelAddr != "" {
		rel, err := netip.ParseAddr(c.RelAddr)
		if err != nil || rel.Zone() != "" || c.RelPort < 0 || c.RelPort > maxCandidatePortNum {
			return colibri2.Candidate{}, errPage(codeInvalidTransport, "related address %q is not an IP literal and port", clip(c.RelAddr))
		}
		out.RelAddr, out.RelPort = rel.String(), c.RelPort
	}
	return out, nil
}

// answeredSources checks the page's sources and names them as lib-jitsi-meet does
// (<endpoint>-a0, <endpoint>-v0), in the shape Jicofo forwards (signaling.md §3.6): every SSRC
// as a <source name/>, the camera's first one with videoType, and the SIM and FID groups.
func answeredSources(endpointID string, in []wireSource) (*colibri2.Sources, *pageError) {
	out := &colibri2.Sources{}
	seen := map[uint32]bool{}
	var audio, video bool
	for _, s := range in {
		var err *pageError
		switch s.Type {
		case "audio":
			if audio {
				return nil, errPage(codeInvalidSources, "one audio source at most")
			}
			audio = true
			err = checkAudioSource(s)
		case "video":
			if video {
				return nil, errPage(codeInvalidSources, "one video source at most")
			}
			video = true
			err = checkVideoSource(s)
		default:
			return nil, errPage(codeInvalidSources, "unknown source type %q", clip(s.Type))
		}
		if err != nil {
			return nil, err
		}
		for _, ssrc := range s.SSRCs {
			if seen[ssrc] {
				return nil, errPage(codeInvalidSources, "SSRC %d is listed twice", ssrc)
			}
			seen[ssrc] = true
		}
		out.MediaSources = append(out.MediaSources, namedSource(endpointID, s))
	}
	return out, nil
}

func checkAudioSource(s wireSource) *pageError {
	if len(s.SSRCs) != 1 || s.SSRCs[0] == 0 {
		return errPage(codeInvalidSources, "an audio source has exactly one non-zero SSRC")
	}
	if len(s.Groups) > 0 {
		return errPage(codeInvalidSources, "an audio source has no SSRC groups")
	}
	return nil
}

// checkVideoSource checks a camera: up to 3 simulcast layers (one SIM group, low to high) each
// with an optional RTX (FID pair), every grouped SSRC listed.
func checkVideoSource(s wireSource) *pageError {
	if len(s.SSRCs) == 0 || len(s.SSRCs) > maxVideoSSRCs {
		return errPage(codeInvalidSources, "a video source has 1 to %d SSRCs", maxVideoSSRCs)
	}
	if slices.Contains(s.SSRCs, 0) {
		return errPage(codeInvalidSources, "SSRC 0 is not allowed")
	}
	if len(s.Groups) > maxVideoGroups {
		return errPage(codeInvalidSources, "a video source has at most %d SSRC groups", maxVideoGroups)
	}
	sims, rtx := 0, map[uint32]bool{}
	for _, g := range s.Groups {
		for _, ssrc := range g.SSRCs {
			if !slices.Contains(s.SSRCs, ssrc) {
				return errPage(codeInvalidSources, "group %s names SSRC %d, which is not listed", clip(g.Semantics), ssrc)
			}
		}
		switch g.Semantics {
		case "SIM":
			sims++
			if sims > 1 || len(g.SSRCs) == 0 || len(g.SSRCs) > maxSimulcastLayers {
				return errPage(codeInvalidSources, "one SIM group of 1 to %d SSRCs at most", maxSimulcastLayers)
			}
		case "FID":
			if len(g.SSRCs) != 2 || g.SSRCs[0] == g.SSRCs[1] || rtx[g.SSRCs[1]] {
				return errPage(codeInvalidSources, "a FID group pairs a primary SSRC with its own RTX SSRC")
			}
			rtx[g.SSRCs[1]] = true
		default:
			return errPage(codeInvalidSources, "unsupported SSRC group semantics %q", clip(g.Semantics))
		}
	}
	return nil
}

func namedSource(endpointID string, s wireSource) colibri2.MediaSource {
	suffix := "-a0"
	if s.Type == "video" {
		suffix = "-v0"
	}
	ms := colibri2.MediaSource{Type: s.Type, ID: endpointID + suffix}
	for i, ssrc := range s.SSRCs {
		src := colibri2.Source{SSRC: ssrc, Name: ms.ID}
		if s.Type == "video" && i == 0 {
			src.VideoType = "camera"
		}
		ms.Sources = append(ms.Sources, src)
	}
	for _, g := range s.Groups {
		ms.SSRCGroups = append(ms.SSRCGroups, colibri2.SSRCGroup{Semantics: g.Semantics, SSRCs: slices.Clone(g.SSRCs)})
	}
	return ms
}

// clip shortens a page-supplied value quoted back in an error.
func clip(s string) string {
	const n = 32
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
