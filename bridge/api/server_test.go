package api

import (
	"context"
	"errors"
	"io"
	"net/http"
	"testing"
	"time"
)

func TestServerLifecycle(t *testing.T) {
	fb := &fakeBridge{}
	s := NewServer("127.0.0.1:0", NewHandler(fb, nil, nil, allOn()))
	if got := s.Addr(); got != "" {
		t.Errorf("Addr before Start = %q", got)
	}
	addr, err := s.Start()
	if err != nil {
		t.Fatal(err)
	}
	if addr != s.Addr() {
		t.Errorf("Start returned %q, Addr() = %q", addr, s.Addr())
	}
	if _, err := s.Start(); !errors.Is(err, ErrServerStarted) {
		t.Errorf("second Start error = %v, want ErrServerStarted", err)
	}

	client := &http.Client{Timeout: 5 * time.Second}
	res, err := client.Post("http://"+addr+"/colibri/drain/enable", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	res, err = client.Get("http://" + addr + "/colibri/drain")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || string(body) != `{"drain":true}` {
		t.Errorf("GET /colibri/drain = %d %q", res.StatusCode, body)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if _, err := client.Get("http://" + addr + "/about/health"); err == nil {
		t.Error("server still answering after Shutdown")
	}
}

func TestServerShutdownBeforeStart(t *testing.T) {
	if err := NewServer("127.0.0.1:0", http.NotFoundHandler()).Shutdown(context.Background()); err != nil {
		t.Errorf("Shutdown before Start = %v", err)
	}
}

func TestServerListenError(t *testing.T) {
	a := NewServer("127.0.0.1:0", http.NotFoundHandler())
	addr, err := a.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = a.Shutdown(ctx)
	}()
	if _, err := NewServer(addr, http.NotFoundHandler()).Start(); err == nil {
		t.Error("second server on the same port started")
	}
}
