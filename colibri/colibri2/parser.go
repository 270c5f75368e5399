package colibri2

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// ErrMalformed reports a payload that is not a well-formed colibri2 element: bad XML, a wrong
// root element, a missing required attribute, an invalid value or a protective limit exceeded.
// JVB's Smack parser drops such IQs without a reply; the caller should answer bad-request
// instead (signaling.md §3.2 allows it), which fails fast rather than after Jicofo's 15 s timeout.
var ErrMalformed = errors.New("colibri2: malformed")

// Limits that protect the bridge from hostile or broken requests (the caller also caps the
// payload size). The deepest legal nesting is 8 (conference-modify/relay/endpoints/endpoint/
// sources/media-source/ssrc-group/source); Jicofo sends one endpoint and a handful of sources
// per request, relays list at most a conference's endpoints.
const (
	maxDepth     = 32
	maxElements  = 100_000
	maxEndpoints = 1000
	maxSources   = 10_000 // <source> elements, including those inside <ssrc-group>
)

func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrMalformed}, args...)...)
}

// Element names, matched by (namespace, local name) after namespace resolution, never by
// literal prefix (signaling.md §3.1, pitfall 10).
var (
	elConferenceModify   = xml.Name{Space: NS, Local: "conference-modify"}
	elConferenceModified = xml.Name{Space: NS, Local: "conference-modified"}
	elEndpoint           = xml.Name{Space: NS, Local: "endpoint"}
	elRelay              = xml.Name{Space: NS, Local: "relay"}
	elEndpoints          = xml.Name{Space: NS, Local: "endpoints"}
	elMedia              = xml.Name{Space: NS, Local: "media"}
	elTransport          = xml.Name{Space: NS, Local: "transport"}
	elSources            = xml.Name{Space: NS, Local: "sources"}
	elMediaSource        = xml.Name{Space: NS, Local: "media-source"}
	elForceMute          = xml.Name{Space: NS, Local: "force-mute"}
	elCapability         = xml.Name{Space: NS, Local: "capability"}
	elInitialLastN       = xml.Name{Space: NS, Local: "initial-last-n"}
	elSCTP               = xml.Name{Space: NS, Local: "sctp"}
	elConnects           = xml.Name{Space: NS, Local: "connects"}
	elConnect            = xml.Name{Space: NS, Local: "connect"}
	elHTTPHeader         = xml.Name{Space: NS, Local: "http-header"}
	elPing               = xml.Name{Space: NS, Local: "ping"}
	elExports            = xml.Name{Space: NS, Local: "exports"}
	elExport             = xml.Name{Space: NS, Local: "export"}
	elRequests           = xml.Name{Space: NS, Local: "requests"}
	elRequest            = xml.Name{Space: NS, Local: "request"}
	elColibri2Error      = xml.Name{Space: NS, Local: "error"}

	elPayloadType      = xml.Name{Space: NSRTP, Local: "payload-type"}
	elRTCPFb           = xml.Name{Space: NSRTCPFb, Local: "rtcp-fb"}
	elHdrExt           = xml.Name{Space: NSHdrExt, Local: "rtp-hdrext"}
	elExtmapAllowMixed = xml.Name{Space: NSHdrExt, Local: "extmap-allow-mixed"}
	elICETransport     = xml.Name{Space: NSICEUDP, Local: "transport"}
	elCandidate        = xml.Name{Space: NSICEUDP, Local: "candidate"}
	elRTCPMux          = xml.Name{Space: NSICEUDP, Local: "rtcp-mux"}
	elFingerprint      = xml.Name{Space: NSDTLS, Local: "fingerprint"}
	elWebSocket        = xml.Name{Space: NSColibri, Local: "web-socket"}
	elSource           = xml.Name{Space: NSSSMA, Local: "source"}
	elSSRCGroup        = xml.Name{Space: NSSSMA, Local: "ssrc-group"}
	elSSRCInfo         = xml.Name{Space: NSJitMeet, Local: "ssrc-info"}
	elStanzaText       = xml.Name{Space: NSStanzas, Local: "text"}
)

// isParameter reports whether n is a <parameter/> child of an element in namespace parentNS.
// Smack writes it without xmlns (inheriting the parent's namespace: RTP, SSMA or hdrext) but
// Jitsi registers it under the RTP namespace too, so both are accepted.
func isParameter(n xml.Name, parentNS string) bool {
	return n.Local == "parameter" && (n.Space == parentNS || n.Space == NSRTP)
}

// parser walks an encoding/xml token stream (which resolves namespaces with inheritance) and
// enforces the limits above on every token it reads, including skipped ones.
type parser struct {
	d          *xml.Decoder
	depth      int
	elements   int
	nEndpoints int
	nSources   int
}

func newParser(payload []byte) *parser {
	return &parser{d: xml.NewDecoder(bytes.NewReader(payload))}
}

func (p *parser) next() (xml.Token, error) {
	tok, err := p.d.Token()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, malformed("unexpected end of XML")
		}
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	switch tok.(type) {
	case xml.StartElement:
		p.depth++
		p.elements++
		if p.depth > maxDepth {
			return nil, malformed("elements nested deeper than %d", maxDepth)
		}
		if p.elements > maxElements {
			return nil, malformed("more than %d elements", maxElements)
		}
	case xml.EndElement:
		p.depth--
	}
	return tok, nil
}

// root reads up to the payload's first element and checks its name. Anything after the
// root's end tag is never read.
func (p *parser) root(want func(xml.Name) bool, what string) (xml.StartElement, error) {
	for {
		tok, err := p.next()
		if err != nil {
			return xml.StartElement{}, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if !want(t.Name) {
				return t, malformed("root element is {%s}%s, want %s", t.Name.Space, t.Name.Local, what)
			}
			return t, nil
		case xml.CharData:
			if len(bytes.TrimSpace(t)) != 0 {
				return xml.StartElement{}, malformed("text before the root element")
			}
		}
	}
}

// children calls fn for every child element of the element whose start tag was read last,
// until that element's end tag. fn must consume the child completely (parse it or p.skip()).
// Character data between children is ignored.
func (p *parser) children(fn func(xml.StartElement) error) error {
	for {
		tok, err := p.next()
		if err != nil {
			return err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if err := fn(t); err != nil {
				return err
			}
		case xml.EndElement:
			return nil
		}
	}
}

// skip consumes the rest of the element whose start tag was read last. Unknown elements
// anywhere are ignored like the Java parser does (callstats, TraceParent, future extensions).
func (p *parser) skip() error {
	for depth := 1; depth > 0; {
		tok, err := p.next()
		if err != nil {
			return err
		}
		switch tok.(type) {
		case xml.StartElement:
			depth++
		case xml.EndElement:
			depth--
		}
	}
	return nil
}

// text returns the character data directly inside the current element and consumes it.
func (p *parser) text() (string, error) {
	var sb strings.Builder
	for depth := 1; depth > 0; {
		tok, err := p.next()
		if err != nil {
			return "", err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
		case xml.EndElement:
			depth--
		case xml.CharData:
			if depth == 1 {
				sb.Write(t)
			}
		}
	}
	return sb.String(), nil
}

// attrs reads the unqualified attributes of one element. The first failure is kept in err so
// that a parse function reads all attributes and checks once; the message names the element,
// the attribute and the offending value.
type attrs struct {
	elem string
	list []xml.Attr
	err  error
}

func attrsOf(se xml.StartElement) attrs {
	return attrs{elem: se.Name.Local, list: se.Attr}
}

func (a *attrs) fail(format string, args ...any) {
	if a.err == nil {
		a.err = malformed("<%s>: "+format, append([]any{a.elem}, args...)...)
	}
}

// get returns the first unqualified attribute with that name. Namespace declarations
// (duplicated ones included, as go-xmpp re-marshals them) and prefixed attributes never match.
func (a *attrs) get(name string) (string, bool) {
	for _, at := range a.list {
		if at.Name.Space == "" && at.Name.Local == name {
			return at.Value, true
		}
	}
	return "", false
}

func (a *attrs) str(name string) string {
	v, _ := a.get(name)
	return v
}

func (a *attrs) required(name string) string {
	v, ok := a.get(name)
	if !ok || strings.TrimSpace(v) == "" {
		a.fail("missing or blank attribute %q", name)
	}
	return v
}

// boolean parses an xs:boolean like Smack's ParserUtils: true/false (case-insensitive), 1/0.
func (a *attrs) boolean(name string, def bool) bool {
	v, ok := a.get(name)
	if !ok {
		return def
	}
	switch strings.ToLower(v) {
	case "true", "1":
		return true
	case "false", "0":
		return false
	}
	a.fail("attribute %q: %q is not a boolean", name, v)
	return def
}

// integer parses an optional decimal attribute within [lo, hi]; absent means 0.
func (a *attrs) integer(name string, lo, hi int64) int64 {
	v, ok := a.get(name)
	if !ok {
		return 0
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < lo || n > hi {
		a.fail("attribute %q: %q is not an integer in [%d, %d]", name, v, lo, hi)
		return 0
	}
	return n
}

func (a *attrs) requiredInt(name string, lo, hi int64) int64 {
	if _, ok := a.get(name); !ok {
		a.fail("missing attribute %q", name)
		return 0
	}
	return a.integer(name, lo, hi)
}

func (a *attrs) optionalInt(name string, lo, hi int64) *int {
	if _, ok := a.get(name); !ok {
		return nil
	}
	n := int(a.integer(name, lo, hi))
	return &n
}

// enum parses an optional attribute case-insensitively and returns it lower-cased.
func (a *attrs) enum(name string, allowed ...string) string {
	v, ok := a.get(name)
	if !ok {
		return ""
	}
	lv := strings.ToLower(v)
	for _, s := range allowed {
		if lv == s {
			return lv
		}
	}
	a.fail("attribute %q: %q is not one of %s", name, v, strings.Join(allowed, ", "))
	return ""
}

// mediaType parses a required audio|video attribute (MediaType in Jitsi).
func (a *attrs) mediaType(name string) string {
	if _, ok := a.get(name); !ok {
		a.fail("missing attribute %q", name)
		return ""
	}
	return a.enum(name, "audio", "video")
}

const (
	maxInt32  = 1<<31 - 1
	minInt32  = -1 << 31
	maxUint32 = 1<<32 - 1
	maxPort   = 65535
)
