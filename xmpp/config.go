package xmpp

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"time"
)

// Security modes, Smack's ConnectionConfiguration.SecurityMode names as JVB's
// videobridge.apis.xmpp-client.configs.<id>.SECURITY_MODE spells them (signaling.md §1.1).
const (
	SecurityRequired   = "required"
	SecurityIfPossible = "ifpossible"
	SecurityDisabled   = "disabled"
)

// DefaultPresenceInterval is videobridge.stats.interval, JVB's default presence-interval.
const DefaultPresenceInterval = 5 * time.Second

// Config is one videobridge.apis.xmpp-client.configs.<id> block: one XMPP account, one TCP
// connection, one set of brewery rooms.
type Config struct {
	ID       string
	Host     string // TCP host (JVB HOSTNAME)
	Port     int    // default 5222
	Domain   string // XMPP domain of the account; default Host
	Username string
	Password string
	// MUCJIDs are the brewery room bare JIDs (MUC_JIDS, already split on commas).
	MUCJIDs     []string
	MUCNickname string

	DisableCertificateVerification bool
	// SecurityMode is "required", "ifpossible" or "disabled"; empty means JVB's default:
	// ifpossible for a loopback Host, required otherwise.
	SecurityMode string
	// PresenceInterval is how often the stats presence is re-sent; default 5 s.
	PresenceInterval time.Duration
}

// Sentinel configuration errors.
var (
	ErrNoHost        = errors.New("xmpp: config: HOSTNAME is empty")
	ErrNoCredentials = errors.New("xmpp: config: USERNAME or PASSWORD is empty")
	ErrNoMUC         = errors.New("xmpp: config: MUC_JIDS is empty")
	ErrNoNickname    = errors.New("xmpp: config: MUC_NICKNAME is empty")
	ErrBadSecurity   = errors.New("xmpp: config: unknown SECURITY_MODE")
	ErrBadMUCJID     = errors.New("xmpp: config: MUC JID is not a bare JID")
	ErrBadNickname   = errors.New("xmpp: config: MUC_NICKNAME contains '/'")
	ErrBadPort       = errors.New("xmpp: config: PORT out of range")
)

// withDefaults fills JVB's defaults and normalizes the MUC list (trimmed, empty entries
// dropped: MUC_JIDS is a comma-separated string and "a, b," is common).
func (cfg Config) withDefaults() Config {
	if cfg.Port == 0 {
		cfg.Port = 5222
	}
	if cfg.Domain == "" {
		cfg.Domain = cfg.Host
	}
	if cfg.SecurityMode == "" {
		cfg.SecurityMode = SecurityRequired
		if isLoopbackHost(cfg.Host) {
			cfg.SecurityMode = SecurityIfPossible
		}
	}
	if cfg.PresenceInterval <= 0 {
		cfg.PresenceInterval = DefaultPresenceInterval
	}
	var rooms []string
	for _, r := range cfg.MUCJIDs {
		if r = strings.TrimSpace(r); r != "" {
			rooms = append(rooms, r)
		}
	}
	cfg.MUCJIDs = rooms
	return cfg
}

// validate checks a config after withDefaults.
func (cfg Config) validate() error {
	switch {
	case cfg.Host == "":
		return ErrNoHost
	case cfg.Port <= 0 || cfg.Port > 65535:
		return fmt.Errorf("%w: %d", ErrBadPort, cfg.Port)
	case cfg.Username == "" || cfg.Password == "":
		return ErrNoCredentials
	case len(cfg.MUCJIDs) == 0:
		return ErrNoMUC
	case cfg.MUCNickname == "":
		return ErrNoNickname
	case strings.Contains(cfg.MUCNickname, "/"):
		return fmt.Errorf("%w: %q", ErrBadNickname, cfg.MUCNickname)
	}
	switch cfg.SecurityMode {
	case SecurityRequired, SecurityIfPossible, SecurityDisabled:
	default:
		return fmt.Errorf("%w: %q", ErrBadSecurity, cfg.SecurityMode)
	}
	for _, r := range cfg.MUCJIDs {
		if local, domain, ok := strings.Cut(r, "@"); !ok || local == "" || domain == "" || strings.Contains(r, "/") {
			return fmt.Errorf("%w: %q", ErrBadMUCJID, r)
		}
	}
	return nil
}

// isLoopbackHost reports whether JVB would treat host as local: Smack's default security mode
// and our PLAIN-without-TLS exception both hinge on it.
func isLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback()
}

// bareJID strips the resource and lowercases what remains: node and domain are
// case-insensitive (RFC 7622 §3.2, §3.3), the resource is not.
func bareJID(jid string) string {
	if i := strings.IndexByte(jid, '/'); i >= 0 {
		jid = jid[:i]
	}
	return strings.ToLower(jid)
}

// resourcePart returns the resource of a full JID, "" for a bare JID.
func resourcePart(jid string) string {
	_, res, _ := strings.Cut(jid, "/")
	return res
}
