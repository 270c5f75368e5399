package ice

import (
	"fmt"

	"github.com/pion/logging"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// LoggerFactory adapts zap to pion's logging interface for the ICE, DTLS and SRTP libraries.
// pion logs some warnings per packet (e.g. "Discarded message ... not a valid remote
// candidate"), and the data plane never logs per packet at the default level, so pion's
// trace, debug, info and warn all map to zap Debug, and pion's errors to zap Warn. Messages
// are formatted only when the level is enabled.
func LoggerFactory(log *zap.Logger) logging.LoggerFactory {
	if log == nil {
		log = zap.NewNop()
	}
	return zapFactory{log: log}
}

type zapFactory struct{ log *zap.Logger }

func (f zapFactory) NewLogger(scope string) logging.LeveledLogger {
	return zapLogger{log: f.log.With(zap.String("pion", scope)).WithOptions(zap.AddCallerSkip(1))}
}

type zapLogger struct{ log *zap.Logger }

func (l zapLogger) emit(lvl zapcore.Level, msg string) {
	if ce := l.log.Check(lvl, msg); ce != nil {
		ce.Write()
	}
}

func (l zapLogger) emitf(lvl zapcore.Level, format string, args ...any) {
	if l.log.Core().Enabled(lvl) {
		l.emit(lvl, fmt.Sprintf(format, args...))
	}
}

func (l zapLogger) Trace(msg string)                  { l.emit(zapcore.DebugLevel, msg) }
func (l zapLogger) Tracef(format string, args ...any) { l.emitf(zapcore.DebugLevel, format, args...) }
func (l zapLogger) Debug(msg string)                  { l.emit(zapcore.DebugLevel, msg) }
func (l zapLogger) Debugf(format string, args ...any) { l.emitf(zapcore.DebugLevel, format, args...) }
func (l zapLogger) Info(msg string)                   { l.emit(zapcore.DebugLevel, msg) }
func (l zapLogger) Infof(format string, args ...any)  { l.emitf(zapcore.DebugLevel, format, args...) }
func (l zapLogger) Warn(msg string)                   { l.emit(zapcore.DebugLevel, msg) }
func (l zapLogger) Warnf(format string, args ...any)  { l.emitf(zapcore.DebugLevel, format, args...) }
func (l zapLogger) Error(msg string)                  { l.emit(zapcore.WarnLevel, msg) }
func (l zapLogger) Errorf(format string, args ...any) { l.emitf(zapcore.WarnLevel, format, args...) }
