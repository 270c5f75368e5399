// Command videobridge is a drop-in replacement for Jitsi Videobridge: it reads an existing
// jvb.conf, joins the brewery MUC through Prosody, and serves Jicofo's Colibri2 requests.
//
//	videobridge --config /etc/jitsi/videobridge/jvb.conf
//
// Without --config it runs on the embedded defaults (media UDP 10000, private HTTP
// 127.0.0.1:8080, no XMPP).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/cityjitsi/videobridge/bridge/config"
)

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	fs := flag.NewFlagSet("videobridge", flag.ContinueOnError)
	configPath := fs.String("config", "", "jvb.conf (HOCON) to read; embedded defaults when empty")
	logLevel := fs.String("log-level", "", "debug, info, warn or error (overrides videobridge.log-level)")
	logFormat := fs.String("log-format", "console", "console or json")
	showVersion := fs.Bool("version", false, "print the version and exit")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "videobridge: unexpected argument %q\n", fs.Arg(0))
		fs.Usage()
		return 2
	}
	if *showVersion {
		fmt.Println(version())
		return 0
	}

	level := zap.NewAtomicLevelAt(zapcore.InfoLevel)
	log, err := newLogger(level, *logFormat)
	if err != nil {
		fmt.Fprintln(os.Stderr, "videobridge:", err)
		return 2
	}
	defer func() { _ = log.Sync() }()

	cfg := config.Default()
	if *configPath != "" {
		if cfg, err = config.Load(*configPath, log); err != nil {
			log.Error("cannot load configuration", zap.Error(err))
			return 1
		}
	}
	level.SetLevel(cfg.Log.Level)
	if *logLevel != "" {
		if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
			log.Error("invalid --log-level", zap.String("value", *logLevel))
			return 2
		}
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	defer stop()
	b, err := wire(cfg, log)
	if err != nil {
		log.Error("cannot start", zap.Error(err))
		return 1
	}
	if err := b.run(ctx); err != nil && !errors.Is(err, context.Canceled) {
		log.Error("stopped with an error", zap.Error(err))
		return 1
	}
	return 0
}

func newLogger(level zap.AtomicLevel, format string) (*zap.Logger, error) {
	zc := zap.NewProductionConfig()
	zc.Level = level
	zc.Sampling = nil
	zc.EncoderConfig.EncodeTime = zapcore.ISO8601TimeEncoder
	switch format {
	case "json":
	case "console":
		zc.Encoding = "console"
		zc.EncoderConfig.EncodeLevel = zapcore.CapitalLevelEncoder
	default:
		return nil, fmt.Errorf("invalid --log-format %q (console or json)", format)
	}
	return zc.Build()
}
