package ice

import (
	"reflect"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
)

// TestLoggerFactory: pion's per-packet warnings stay at debug; its errors become warnings;
// formatting is skipped below the enabled level.
func TestLoggerFactory(t *testing.T) {
	core, logs := observer.New(zapcore.InfoLevel)
	l := LoggerFactory(zap.New(core)).NewLogger("ice")
	l.Warnf("Discarded message from %s", "192.0.2.1:5")
	l.Infof("info %d", 1)
	l.Debug("debug")
	l.Errorf("failed: %v", "boom")
	l.Error("plain")
	type entry struct {
		Level zapcore.Level
		Msg   string
		Scope string
	}
	var got []entry
	for _, e := range logs.All() {
		got = append(got, entry{e.Level, e.Message, e.ContextMap()["pion"].(string)})
	}
	want := []entry{{zapcore.WarnLevel, "failed: boom", "ice"}, {zapcore.WarnLevel, "plain", "ice"}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	LoggerFactory(nil).NewLogger("x").Errorf("no panic with a nil logger %d", 1)
}
