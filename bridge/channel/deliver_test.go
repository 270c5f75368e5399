package channel

import (
	"errors"
	"reflect"
	"testing"

	bc "github.com/cityjitsi/videobridge/colibri/bridgechannel"
)

// TestDeliver: a message delivered for an endpoint is acted on exactly as if the endpoint had
// sent it (here: its constraints apply and the sender is told) before Deliver returns; an
// unknown endpoint or a message that does not decode is an error.
func TestDeliver(t *testing.T) {
	conf := newFakeConf(cam("a", "a-v0"), cam("b", "b-v0"))
	th := newTestHub(t, conf, Options{})
	th.add(t, "a", false)
	b := th.add(t, "b", false)
	la := connect(t, mustChannel(t, th, "a"))
	expect(t, la, &bc.SenderSourceConstraints{SourceName: "a-v0"}, &bc.ForwardedSources{})
	if err := th.Deliver("b", []byte(`{"colibriClass":"ReceiverVideoConstraints","constraints":{"a-v0":{"maxHeight":720}}}`)); err != nil {
		t.Fatal(err)
	}
	if got, want := conf.constraints("b"), (Constraints{Sources: []SourceConstraint{{"a-v0", 720}}}); !reflect.DeepEqual(got, want) {
		t.Errorf("b's constraints %+v, want %+v", got, want)
	}
	expect(t, la, &bc.SenderSourceConstraints{SourceName: "a-v0", MaxHeight: 720})
	if s := b.Stats(); s.Received != 0 {
		t.Errorf("a delivered message counted as received from the transport: %+v", s)
	}
	for _, tc := range []struct {
		id, msg string
		want    error
	}{
		{"zz", `{"colibriClass":"ClientHello"}`, ErrUnknownEndpoint},
		{"b", `[1,2]`, nil},
	} {
		err := th.Deliver(tc.id, []byte(tc.msg))
		if err == nil || (tc.want != nil && !errors.Is(err, tc.want)) || (tc.want == nil && errors.Is(err, ErrUnknownEndpoint)) {
			t.Errorf("Deliver(%q, %s) = %v, want %v", tc.id, tc.msg, err, tc.want)
		}
	}
}

func mustChannel(t *testing.T, th *testHub, id string) *Channel {
	t.Helper()
	c, ok := th.Channel(id)
	if !ok {
		t.Fatalf("no channel %s", id)
	}
	return c
}
