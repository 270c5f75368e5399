package config

import (
	"errors"
	"fmt"
	"time"
)

// Validate checks the invariants the rest of the bridge relies on. Load only returns configs
// that pass; call it again after changing a Config in code (flags, tests).
func (c *Config) Validate() error {
	var errs []error
	fail := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: %s: %s", ErrInvalidValue, key, fmt.Sprintf(format, args...)))
	}
	if c.ICE.UDPPort < 1 || c.ICE.UDPPort > 65535 {
		fail("videobridge.ice.udp.port", "%d out of range [1, 65535]", c.ICE.UDPPort)
	}
	for _, p := range []struct {
		key  string
		port int
	}{
		{"videobridge.http-servers.private.port", c.HTTP.Private.Port},
		{"videobridge.http-servers.private.tls-port", c.HTTP.Private.TLSPort},
		{"videobridge.http-servers.public.port", c.HTTP.Public.Port},
		{"videobridge.http-servers.public.tls-port", c.HTTP.Public.TLSPort},
	} {
		if p.port < -1 || p.port > 65535 {
			fail(p.key, "%d out of range [-1, 65535]", p.port)
		}
	}
	intervals := []struct {
		key string
		d   time.Duration
	}{
		{"videobridge.stats.interval", c.Stats.Interval},
		{"videobridge.apis.xmpp-client.presence-interval", c.XMPP.PresenceInterval},
		{"videobridge.health.interval", c.Health.Interval},
		{"videobridge.health.timeout", c.Health.Timeout},
		{"videobridge.health.max-check-duration", c.Health.MaxCheckDuration},
		{"videobridge.entity-expiration.timeout", c.EntityExpiration.Timeout},
		{"videobridge.entity-expiration.check-interval", c.EntityExpiration.CheckInterval},
		{"videobridge.websockets.keepalive-ping-interval", c.Websockets.KeepalivePingInterval},
		{"videobridge.websockets.idle-timeout", c.Websockets.IdleTimeout},
		{"videobridge.cc.padding-period", c.CC.PaddingPeriod},
		{"videobridge.cc.max-time-between-calculations", c.CC.MaxTimeBetweenCalculations},
		{"ice4j.consent-freshness.interval", c.ICE.ConsentFreshness.Interval},
	}
	for _, iv := range intervals {
		if iv.d <= 0 {
			fail(iv.key, "duration %v must be positive", iv.d)
		}
	}
	for _, m := range c.ICE.Harvest.StaticMappings {
		if m.LocalAddress == "" || m.PublicAddress == "" || (m.LocalPort == 0) != (m.PublicPort == 0) {
			fail(staticMappingsPath, "incomplete mapping %+v", m)
		}
	}
	for _, cl := range c.XMPP.Clients {
		if err := cl.validate(); err != nil {
			fail(xmppConfigsPath+"."+cl.ID, "%v", err)
		}
	}
	return errors.Join(errs...)
}

func (cl *XMPPClient) validate() error {
	switch {
	case cl.Hostname == "" || cl.Domain == "" || cl.Username == "" || cl.Password == "" || cl.MUCNickname == "":
		return errors.New("HOSTNAME, DOMAIN, USERNAME, PASSWORD and MUC_NICKNAME must be set")
	case len(cl.MUCJIDs) == 0:
		return errors.New("MUC_JIDS must be set")
	case cl.Port < 1 || cl.Port > 65535:
		return fmt.Errorf("PORT %d out of range [1, 65535]", cl.Port)
	}
	switch cl.SecurityMode {
	case SecurityRequired, SecurityIfPossible, SecurityDisabled:
	default:
		return fmt.Errorf("invalid SECURITY_MODE %q", cl.SecurityMode)
	}
	if cl.IQHandlerMode != "sync" && cl.IQHandlerMode != "async" {
		return fmt.Errorf("invalid IQ_HANDLER_MODE %q", cl.IQHandlerMode)
	}
	return nil
}
