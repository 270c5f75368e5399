package config

import (
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"

	"go.uber.org/zap"
)

// ErrInvalidValue is matched (errors.Is) by every *ValueError.
var ErrInvalidValue = errors.New("config: invalid value")

// ValueError is a value of the wrong type or out of range. Loading stops at the first one.
type ValueError struct {
	File string // where the value is written
	Key  string // its HOCON path
	Msg  string
}

func (e *ValueError) Error() string {
	return fmt.Sprintf("config: %s: %s: %s", e.File, e.Key, e.Msg)
}

// Is makes errors.Is(err, ErrInvalidValue) true for every ValueError.
func (e *ValueError) Is(target error) bool { return target == ErrInvalidValue }

func valueError(v *value, key string, err error) *ValueError {
	return &ValueError{File: v.pos.file, Key: key, Msg: err.Error()}
}

// Load reads a jvb.conf (and what it includes) over Default(). Substitutions that the file does
// not define resolve against the defaults, then the environment (HOCON). A missing include is
// ignored; a missing main file, a syntax error or an invalid value is an error.
func Load(path string, log *zap.Logger) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return load(path, data, os.ReadFile, os.LookupEnv, log)
}

func load(name string, data []byte, readFile func(string) ([]byte, error),
	env func(string) (string, bool), log *zap.Logger) (*Config, error) {
	if log == nil {
		log = zap.NewNop()
	}
	log = log.With(zap.String("component", "config"))
	root, err := parseHOCON(name, data, &parseOptions{readFile: readFile})
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	c := Default()
	tree, err := resolveTree(root, defaultTree(c), env)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	if err := c.apply(tree, log); err != nil {
		return nil, err
	}
	if err := c.Validate(); err != nil { // a bug in apply if it ever triggers
		return nil, fmt.Errorf("config: %s: %w", name, err)
	}
	log.Info("configuration loaded", zap.String("file", name), zap.Int("xmpp_clients", len(c.XMPP.Clients)),
		zap.Int("udp_port", c.ICE.UDPPort))
	return c, nil
}

// apply reads every known key of the resolved tree into c, which holds the defaults.
func (c *Config) apply(tree *value, log *zap.Logger) error {
	seen := map[string]bool{}
	for _, f := range fields {
		v := tree.at(f.path)
		if v == nil {
			continue
		}
		seen[f.path] = true
		if v.kind == kindNull {
			continue
		}
		if err := f.set(c, v); err != nil {
			return valueError(v, f.path, err)
		}
	}
	// These defaults are substitutions in JVB's reference.conf, so they follow the value
	// they name when the file changes it.
	if !seen[presenceIntervalPath] {
		c.XMPP.PresenceInterval = c.Stats.Interval
	}
	if !seen[checkIntervalPath] {
		c.EntityExpiration.CheckInterval = c.EntityExpiration.Timeout
	}
	if err := c.applyWebsocketDomain(tree, seen); err != nil {
		return err
	}
	if err := c.applyXMPPClients(tree, seen, log); err != nil {
		return err
	}
	if err := c.applyStaticMappings(tree, seen); err != nil {
		return err
	}
	if c.Relay.Enabled && c.Relay.RelayID == "" {
		log.Warn("videobridge.relay.enabled is set without videobridge.relay.relay-id")
	}
	if c.Websockets.Enabled && len(c.Websockets.Domains) == 0 {
		log.Warn("videobridge.websockets.enabled is set without videobridge.websockets.domains")
	}
	if unknown := unknownKeys(tree, seen); len(unknown) > 0 {
		log.Debug("configuration keys with no effect in this bridge", zap.Strings("keys", unknown))
	}
	return nil
}

// applyWebsocketDomain reads the legacy single `websockets.domain` (used when `domains` is
// empty) and defaults relay-domains to the domains (JVB reference.conf comment).
func (c *Config) applyWebsocketDomain(tree *value, seen map[string]bool) error {
	const path = "videobridge.websockets.domain"
	if v := tree.at(path); v != nil && v.kind != kindNull {
		seen[path] = true
		s, err := v.scalarText()
		if err != nil {
			return valueError(v, path, err)
		}
		if len(c.Websockets.Domains) == 0 && strings.TrimSpace(s) != "" {
			c.Websockets.Domains = []string{strings.TrimSpace(s)}
		}
	}
	if len(c.Websockets.RelayDomains) == 0 && len(c.Websockets.Domains) > 0 {
		c.Websockets.RelayDomains = append([]string(nil), c.Websockets.Domains...)
	}
	return nil
}

const xmppConfigsPath = "videobridge.apis.xmpp-client.configs"

// applyXMPPClients reads the xmpp-client blocks. As in JVB, an incomplete block is skipped
// with a warning rather than failing the bridge; a malformed value (PORT = "abc") is an error.
func (c *Config) applyXMPPClients(tree *value, seen map[string]bool, log *zap.Logger) error {
	configs := tree.at(xmppConfigsPath)
	if configs == nil || configs.kind == kindNull {
		return nil
	}
	seen[xmppConfigsPath] = true
	if configs.kind != kindObject {
		return valueError(configs, xmppConfigsPath, fmt.Errorf("expected an object, got %s", configs.kind))
	}
	ids := append([]string(nil), configs.keys...)
	sort.Strings(ids)
	for _, id := range ids {
		block := configs.fields[id]
		if block.kind != kindObject {
			log.Warn("ignoring xmpp-client config that is not an object", zap.String("id", id))
			continue
		}
		props, names, err := xmppProps(block, xmppConfigsPath+"."+id)
		if err != nil {
			return err
		}
		client, reason, perr := newXMPPClient(id, props)
		if perr != nil {
			name := names[perr.prop]
			return valueError(block.fields[name], xmppConfigsPath+"."+id+"."+name, perr.err)
		}
		if reason != "" {
			log.Warn("ignoring incomplete xmpp-client config", zap.String("id", id), zap.String("reason", reason))
			continue
		}
		c.XMPP.Clients = append(c.XMPP.Clients, client)
	}
	return nil
}

// xmppProps converts a block to upper-cased keys and string values, as jicoco does. names maps
// each upper-cased key back to its spelling in the file, for error messages.
func xmppProps(block *value, path string) (props, names map[string]string, err error) {
	props, names = map[string]string{}, map[string]string{}
	for _, k := range block.keys {
		v := block.fields[k]
		if v.kind == kindNull {
			continue
		}
		up := strings.ToUpper(k)
		var s string
		if v.kind == kindList && up == "MUC_JIDS" { // lenient: a list instead of "a,b"
			var parts []string
			for _, item := range v.items {
				t, terr := item.scalarText()
				if terr != nil {
					return nil, nil, valueError(item, path+"."+k, terr)
				}
				parts = append(parts, t)
			}
			s = strings.Join(parts, ",")
		} else if s, err = v.scalarText(); err != nil {
			return nil, nil, valueError(v, path+"."+k, err)
		}
		props[up], names[up] = s, k
	}
	return props, names, nil
}

// propError is a malformed value in an xmpp-client block; prop is the upper-cased key.
type propError struct {
	prop string
	err  error
}

// newXMPPClient builds one client from a block's properties (keys upper-cased). It returns a
// reason when JVB would skip the block, or an error for a value that cannot be read.
func newXMPPClient(id string, props map[string]string) (XMPPClient, string, *propError) {
	for _, k := range []string{"HOSTNAME", "USERNAME", "PASSWORD", "MUC_JIDS", "MUC_NICKNAME"} {
		if strings.TrimSpace(props[k]) == "" {
			return XMPPClient{}, "missing " + k, nil
		}
	}
	cl := XMPPClient{
		ID:            id,
		Hostname:      strings.TrimSpace(props["HOSTNAME"]),
		Port:          5222,
		Domain:        strings.TrimSpace(props["DOMAIN"]),
		Username:      props["USERNAME"],
		Password:      props["PASSWORD"],
		MUCNickname:   props["MUC_NICKNAME"],
		IQHandlerMode: "sync",
	}
	if cl.Domain == "" {
		cl.Domain = cl.Hostname
	}
	for _, jid := range strings.Split(props["MUC_JIDS"], ",") {
		if jid = strings.TrimSpace(jid); jid != "" {
			cl.MUCJIDs = append(cl.MUCJIDs, jid)
		}
	}
	if len(cl.MUCJIDs) == 0 {
		return XMPPClient{}, "missing MUC_JIDS", nil
	}
	if s := props["PORT"]; strings.TrimSpace(s) != "" {
		n, err := parseInt(s, 1, 65535)
		if err != nil {
			return XMPPClient{}, "", &propError{"PORT", err}
		}
		cl.Port = int(n)
	}
	if s := props["DISABLE_CERTIFICATE_VERIFICATION"]; s != "" {
		b, err := parseBool(s)
		if err != nil {
			return XMPPClient{}, "", &propError{"DISABLE_CERTIFICATE_VERIFICATION", err}
		}
		cl.DisableCertificateVerification = b
	}
	cl.SecurityMode = defaultSecurityMode(cl.Hostname)
	if s, ok := props["SECURITY_MODE"]; ok {
		switch m := SecurityMode(s); m { // case-sensitive, like SecurityMode.valueOf in JVB
		case SecurityRequired, SecurityIfPossible, SecurityDisabled:
			cl.SecurityMode = m
		default:
			return XMPPClient{}, fmt.Sprintf("invalid SECURITY_MODE %q", s), nil
		}
	}
	if s, ok := props["IQ_HANDLER_MODE"]; ok {
		switch m := strings.ToLower(strings.TrimSpace(s)); m {
		case "sync", "async":
			cl.IQHandlerMode = m
		default:
			return XMPPClient{}, fmt.Sprintf("invalid IQ_HANDLER_MODE %q", s), nil
		}
	}
	return cl, "", nil
}

// defaultSecurityMode: JVB requires TLS unless the XMPP server is on loopback (Debian installs
// talk to a local Prosody, often without a certificate for "localhost").
func defaultSecurityMode(hostname string) SecurityMode {
	switch strings.ToLower(strings.Trim(hostname, "[]")) {
	case "localhost", "127.0.0.1", "::1":
		return SecurityIfPossible
	}
	return SecurityRequired
}

const staticMappingsPath = "ice4j.harvest.mapping.static-mappings"

func (c *Config) applyStaticMappings(tree *value, seen map[string]bool) error {
	v := tree.at(staticMappingsPath)
	if v == nil || v.kind == kindNull {
		return nil
	}
	seen[staticMappingsPath] = true
	if v.kind != kindList {
		return valueError(v, staticMappingsPath, fmt.Errorf("expected a list, got %s", v.kind))
	}
	var out []StaticMapping
	for i, item := range v.items {
		m, err := parseStaticMapping(item, fmt.Sprintf("%s[%d]", staticMappingsPath, i))
		if err != nil {
			return err
		}
		out = append(out, m)
	}
	c.ICE.Harvest.StaticMappings = out
	return nil
}

// parseStaticMapping reads one ice4j static mapping. Ports come in pairs: a public port only
// makes sense for a known local port.
func parseStaticMapping(item *value, key string) (StaticMapping, error) {
	var m StaticMapping
	if item.kind != kindObject {
		return m, valueError(item, key, fmt.Errorf("expected an object, got %s", item.kind))
	}
	strs := []struct {
		name string
		dst  *string
	}{{"local-address", &m.LocalAddress}, {"public-address", &m.PublicAddress}, {"name", &m.Name}}
	for _, s := range strs {
		if v := item.fields[s.name]; v != nil && v.kind != kindNull {
			t, err := v.scalarText()
			if err != nil {
				return m, valueError(v, key+"."+s.name, err)
			}
			*s.dst = strings.TrimSpace(t)
		}
	}
	ports := []struct {
		name string
		dst  *int
	}{{"local-port", &m.LocalPort}, {"public-port", &m.PublicPort}}
	for _, p := range ports {
		if v := item.fields[p.name]; v != nil && v.kind != kindNull {
			t, err := v.scalarText()
			if err == nil {
				var n int64
				n, err = parseInt(t, 1, 65535)
				*p.dst = int(n)
			}
			if err != nil {
				return m, valueError(v, key+"."+p.name, err)
			}
		}
	}
	switch {
	case m.LocalAddress == "":
		return m, valueError(item, key+".local-address", errors.New("missing"))
	case m.PublicAddress == "":
		return m, valueError(item, key+".public-address", errors.New("missing"))
	case (m.LocalPort == 0) != (m.PublicPort == 0):
		return m, valueError(item, key, errors.New("local-port and public-port must be set together"))
	}
	return m, nil
}

// unknownKeys lists the leaves under the bridge's namespaces (videobridge, ice4j) that no
// field read. Other namespaces (jmt, jicofo, tracing) are not ours to judge.
func unknownKeys(tree *value, seen map[string]bool) []string {
	var out []string
	var walk func(v *value, path string)
	walk = func(v *value, path string) {
		if seen[path] {
			return
		}
		if v.kind != kindObject {
			out = append(out, path)
			return
		}
		for _, k := range v.keys {
			walk(v.fields[k], path+"."+k)
		}
	}
	for _, ns := range []string{"videobridge", "ice4j"} {
		if v := tree.fields[ns]; v != nil {
			walk(v, ns)
		}
	}
	return out
}
