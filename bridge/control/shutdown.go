package control

import (
	"go.uber.org/zap"
)

// Shutdown states (JVB ShutdownState names, also used by /debug).
const (
	ShutdownRunning      = "RUNNING"
	ShutdownGraceful     = "GRACEFUL_SHUTDOWN"
	ShutdownShuttingDown = "SHUTTING_DOWN"
)

// shutdownMachine is JVB's ShutdownManager state; guarded by Videobridge.mu.
type shutdownMachine struct {
	state string // ShutdownRunning, ShutdownGraceful or ShutdownShuttingDown
	// gracefulEntered stays true once GRACEFUL_SHUTDOWN was entered; JVB's graceful_shutdown
	// stat is never reset, so it is still true during SHUTTING_DOWN.
	gracefulEntered bool
	stopMaxDuration func() bool
	stopDelay       func() bool
}

func (s *shutdownMachine) stopTimers() {
	for _, stop := range []func() bool{s.stopMaxDuration, s.stopDelay} {
		if stop != nil {
			stop()
		}
	}
}

// ShutdownState returns RUNNING, GRACEFUL_SHUTDOWN or SHUTTING_DOWN.
func (v *Videobridge) ShutdownState() string {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.shutdown.state
}

// StartGracefulShutdown enters GRACEFUL_SHUTDOWN (signaling.md §5.4): new conferences are
// refused with graceful_shutdown while existing ones keep accepting endpoints. The bridge moves
// on to SHUTTING_DOWN once local endpoints ≤ GracefulShutdownMinParticipants (checked now and
// on every endpoint expiry) or after GracefulShutdownMaxDuration.
func (v *Videobridge) StartGracefulShutdown() {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.closed {
		return
	}
	if v.shutdown.state != ShutdownRunning {
		v.log.Info("graceful shutdown already initiated", zap.String("state", v.shutdown.state))
		return
	}
	v.shutdown.state = ShutdownGraceful
	v.shutdown.gracefulEntered = true
	v.stateChangedLocked()
	v.log.Info("entered graceful shutdown", zap.Duration("max_duration", v.opts.GracefulShutdownMaxDuration))
	v.shutdown.stopMaxDuration = v.opts.AfterFunc(v.opts.GracefulShutdownMaxDuration, func() {
		v.mu.Lock()
		defer v.mu.Unlock()
		if v.shutdown.state == ShutdownGraceful {
			v.log.Info("graceful shutdown period expired")
			v.shuttingDownLocked()
		}
	})
	v.maybeShutdownLocked(v.localEndpoints.Load())
}

// StartShutdown goes straight to SHUTTING_DOWN (JVB's non-graceful shutdown request).
func (v *Videobridge) StartShutdown() {
	v.mu.Lock()
	defer v.mu.Unlock()
	if !v.closed {
		v.shuttingDownLocked()
	}
}

// endpointExpired is JVB's Videobridge.localEndpointExpired → ShutdownManager.maybeShutdown.
func (v *Videobridge) endpointExpired(remaining int64) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.maybeShutdownLocked(remaining)
}

func (v *Videobridge) maybeShutdownLocked(endpoints int64) {
	if v.shutdown.state == ShutdownGraceful && endpoints <= int64(v.opts.GracefulShutdownMinParticipants) {
		v.log.Info("few enough participants left to shut down", zap.Int64("endpoints", endpoints))
		v.shuttingDownLocked()
	}
}

// shuttingDownLocked enters SHUTTING_DOWN: Jicofo moves every participant away on seeing
// shutting_down=true, and OnShutdown runs after ShuttingDownDelay.
func (v *Videobridge) shuttingDownLocked() {
	if v.shutdown.state == ShutdownShuttingDown {
		return
	}
	v.shutdown.state = ShutdownShuttingDown
	v.stateChangedLocked()
	if v.shutdown.stopMaxDuration != nil {
		v.shutdown.stopMaxDuration()
	}
	v.log.Info("shutting down", zap.Duration("delay", v.opts.ShuttingDownDelay))
	v.shutdown.stopDelay = v.opts.AfterFunc(v.opts.ShuttingDownDelay, func() {
		v.log.Info("shutting down now")
		if v.opts.OnShutdown != nil {
			v.opts.OnShutdown()
		}
	})
}

// stateChangedLocked tells the owner that what Jicofo reads from presence (drain,
// graceful_shutdown, shutting_down) changed, so it can publish now rather than at the next
// interval. It runs on its own goroutine: the callback reads Stats, which takes v.mu.
func (v *Videobridge) stateChangedLocked() {
	if f := v.opts.OnStateChange; f != nil {
		go f()
	}
}

// Drain reports drain mode: published as drain=true so Jicofo prefers other bridges for new
// conferences; creates are still accepted (§5.4).
func (v *Videobridge) Drain() bool { return v.drain.Load() }

// SetDrain enables or disables drain mode (reversible, unlike graceful shutdown).
func (v *Videobridge) SetDrain(enable bool) {
	if v.drain.Swap(enable) != enable {
		v.log.Info("drain mode changed", zap.Bool("drain", enable))
		v.stateChangedLocked() // needs no lock: it only reads opts
	}
}

// SetHealthCheck installs the function Health reports (the periodic checker's cached result).
func (v *Videobridge) SetHealthCheck(check func() error) {
	if check == nil {
		v.healthCheck.Store(nil)
		return
	}
	v.healthCheck.Store(&check)
}

// Health returns nil when healthy; without a check installed the bridge counts as healthy.
func (v *Videobridge) Health() error {
	if p := v.healthCheck.Load(); p != nil {
		return (*p)()
	}
	return nil
}

// SetStressLevel installs the load measurement behind stress_level (JVB: measurement divided
// by its threshold, e.g. packet rate / 50000). Until one is installed stress_level is the
// local endpoint count times AverageParticipantStress, the same model Jicofo applies between
// reports.
func (v *Videobridge) SetStressLevel(level func() float64) {
	if level == nil {
		v.stressLevel.Store(nil)
		return
	}
	v.stressLevel.Store(&level)
}

func (v *Videobridge) stress() float64 {
	if p := v.stressLevel.Load(); p != nil {
		return (*p)()
	}
	return float64(v.localEndpoints.Load()) * v.opts.AverageParticipantStress
}
