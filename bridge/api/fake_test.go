package api

import (
	"errors"
	"sync"
)

// fakeBridge is a hand-written Bridge that records calls.
type fakeBridge struct {
	mu         sync.Mutex
	healthErr  error
	stats      []Stat
	drain      bool
	graceful   int // StartGracefulShutdown calls
	immediate  int // StartShutdown calls
	statsCalls int
}

func (f *fakeBridge) Health() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.healthErr
}

func (f *fakeBridge) Stats() []Stat {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.statsCalls++
	return append([]Stat(nil), f.stats...)
}

func (f *fakeBridge) Drain() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.drain
}

func (f *fakeBridge) SetDrain(on bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.drain = on
}

func (f *fakeBridge) StartGracefulShutdown() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.graceful++
}

func (f *fakeBridge) StartShutdown() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.immediate++
}

// shutdownCalls returns (graceful, immediate) call counts.
func (f *fakeBridge) shutdownCalls() (int, int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.graceful, f.immediate
}

var errFakeUnhealthy = errors.New("health check failed: ice agent stuck")

// fakeXMPP is a fixed XMPPStatus.
type fakeXMPP struct {
	clientsConfigured, clientsConnected, mucsConfigured, mucsJoined int
	disconnects                                                     uint64
}

func (x fakeXMPP) ClientsConfigured() int { return x.clientsConfigured }
func (x fakeXMPP) ClientsConnected() int  { return x.clientsConnected }
func (x fakeXMPP) MUCsConfigured() int    { return x.mucsConfigured }
func (x fakeXMPP) MUCsJoined() int        { return x.mucsJoined }
func (x fakeXMPP) Disconnects() uint64    { return x.disconnects }

// sampleStats is a realistic /colibri/stats snapshot in JVB's order, with
// distinct values so a wrong key mapping shows up.
func sampleStats() []Stat {
	return []Stat{
		{"incoming_loss", 0.0125},
		{"outgoing_loss", 0.0},
		{"overall_loss", 0.005},
		{"endpoints_with_high_outgoing_loss", int64(1)},
		{"local_active_endpoints", int64(3)},
		{"bit_rate_download", int64(1834)},
		{"bit_rate_upload", int64(3620)},
		{"packet_rate_download", int64(210)},
		{"packet_rate_upload", int64(415)},
		{"rtt_aggregate", 42.5},
		{"octo_conferences", int64(0)},
		{"inactive_conferences", int64(0)},
		{"p2p_conferences", int64(0)},
		{"endpoints", int64(4)},
		{"participants", int64(4)},
		{"octo_endpoints", int64(1)},
		{"largest_conference", int64(4)},
		{"total_conferences_created", int64(17)},
		{"total_conferences_completed", int64(16)},
		{"total_participants", int64(58)},
		{"stress_level", 0.0412},
		{"conferences", int(1)},
		{"local_endpoints", int64(3)},
		{"total_bytes_received", int64(123456789)},
		{"total_bytes_sent", int64(987654321)},
		{"total_packets_received", int64(100000)},
		{"total_packets_sent", int64(200000)},
		{"total_dominant_speaker_changes", int64(9)},
		{"endpoints_ice_failed", int64(2)},
		{"threads", 57},
		{"graceful_shutdown", false},
		{"shutting_down", false},
		{"drain", true},
		{"current_timestamp", "2026-08-20 12:34:56.789"},
		{"relay_id", "jvb-1"},
		{"healthy", true},
		{"version", "2.3.0-gabcdef"},
		{"region", "eu-west-1"},
	}
}
