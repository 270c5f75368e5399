package xmpp

import (
	"errors"
	"reflect"
	"testing"
	"time"
)

func TestConfigDefaults(t *testing.T) {
	tests := []struct {
		name string
		in   Config
		want Config
	}{{
		name: "loopback host: ifpossible, domain from host",
		in:   Config{Host: "127.0.0.1", MUCJIDs: []string{" a@m ", "", "b@m"}},
		want: Config{Host: "127.0.0.1", Port: 5222, Domain: "127.0.0.1", SecurityMode: SecurityIfPossible,
			PresenceInterval: 5 * time.Second, MUCJIDs: []string{"a@m", "b@m"}},
	}, {
		name: "remote host: required",
		in:   Config{Host: "xmpp.meet.jitsi", Domain: "auth.meet.jitsi", Port: 6222, PresenceInterval: time.Second},
		want: Config{Host: "xmpp.meet.jitsi", Domain: "auth.meet.jitsi", Port: 6222, SecurityMode: SecurityRequired,
			PresenceInterval: time.Second},
	}, {
		name: "localhost and ::1 are loopback; explicit mode kept",
		in:   Config{Host: "::1", SecurityMode: SecurityDisabled},
		want: Config{Host: "::1", Port: 5222, Domain: "::1", SecurityMode: SecurityDisabled, PresenceInterval: 5 * time.Second},
	}}
	for _, tc := range tests {
		if got := tc.in.withDefaults(); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s:\n got %+v\nwant %+v", tc.name, got, tc.want)
		}
	}
	if !isLoopbackHost("localhost") || !isLoopbackHost("[::1]") || isLoopbackHost("xmpp.meet.jitsi") || isLoopbackHost("192.0.2.2") {
		t.Error("isLoopbackHost")
	}
}

func TestConfigValidate(t *testing.T) {
	ok := Config{Host: "h", Username: "jvb", Password: "p", MUCJIDs: []string{"jvbbrewery@muc"}, MUCNickname: "n"}
	mod := func(f func(*Config)) Config { c := ok; f(&c); return c }
	tests := []struct {
		name string
		cfg  Config
		want error
	}{
		{"valid", ok, nil},
		{"no host", mod(func(c *Config) { c.Host = "" }), ErrNoHost},
		{"no password", mod(func(c *Config) { c.Password = "" }), ErrNoCredentials},
		{"no rooms", mod(func(c *Config) { c.MUCJIDs = []string{" "} }), ErrNoMUC},
		{"room with resource", mod(func(c *Config) { c.MUCJIDs = []string{"r@m/x"} }), ErrBadMUCJID},
		{"room without node", mod(func(c *Config) { c.MUCJIDs = []string{"muc.example"} }), ErrBadMUCJID},
		{"no nickname", mod(func(c *Config) { c.MUCNickname = "" }), ErrNoNickname},
		{"nickname with slash", mod(func(c *Config) { c.MUCNickname = "a/b" }), ErrBadNickname},
		{"bad mode (case-sensitive)", mod(func(c *Config) { c.SecurityMode = "Required" }), ErrBadSecurity},
		{"bad port", mod(func(c *Config) { c.Port = 70000 }), ErrBadPort},
	}
	for _, tc := range tests {
		if err := tc.cfg.withDefaults().validate(); !errors.Is(err, tc.want) {
			t.Errorf("%s: err %v, want %v", tc.name, err, tc.want)
		}
	}
}
