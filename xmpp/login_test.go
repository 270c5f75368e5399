package xmpp

import (
	"errors"
	"reflect"
	"testing"

	"go.uber.org/zap"
)

func TestMechanisms(t *testing.T) {
	tests := []struct {
		name     string
		host     string
		startTLS bool
		want     []string
	}{
		{"TLS: go-xmpp, own SCRAM-SHA-1, then PLAIN", "xmpp.meet.jitsi", true, []string{"", "SCRAM-SHA-1", "PLAIN"}},
		{"plaintext to a remote host: never PLAIN", "xmpp.meet.jitsi", false, []string{"", "SCRAM-SHA-1"}},
		{"plaintext to loopback: PLAIN allowed", "127.0.0.1", false, []string{"", "SCRAM-SHA-1", "PLAIN"}},
	}
	for _, tc := range tests {
		c := New(Config{Host: tc.host}, nil, nil, "", zap.NewNop())
		if got := c.mechanisms(tc.startTLS); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: got %q want %q", tc.name, got, tc.want)
		}
		if got := c.goxmppOptions(attempt{startTLS: tc.startTLS}).NoPLAIN; got != (!tc.startTLS && tc.host != "127.0.0.1") {
			t.Errorf("%s: NoPLAIN = %v", tc.name, got)
		}
	}
}

func TestLoginErrorClassification(t *testing.T) {
	tests := []struct {
		err        string
		sasl       bool
		noStartTLS bool
	}{
		{"auth failure: Invalid channel binding value.", true, false},
		{"SCRAM: server signature mismatch", true, false},
		{"no viable authentication method available: [X]", true, false},
		{"StartTLS is required but the server doesn't support it", false, true},
		{"StartTLS is not supported by the server but InsecureAllowUnencryptedAuth is not set", false, true},
		{"dial tcp 127.0.0.1:1: connect: connection refused", false, false},
		{"starttls handshake: tls: failed to verify certificate", false, false},
	}
	for _, tc := range tests {
		err := errors.New(tc.err)
		if got := errors.Is(classifyLoginError(err), errSASL); got != tc.sasl {
			t.Errorf("classifyLoginError(%q) SASL = %v", tc.err, got)
		}
		if got := errors.Is(classifyLoginError(err), errNoStartTLS); got != tc.noStartTLS {
			t.Errorf("classifyLoginError(%q) no-STARTTLS = %v", tc.err, got)
		}
	}
}
