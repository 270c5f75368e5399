package api

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"
)

// Server runs the private HTTP server (videobridge.http-servers.private,
// default 127.0.0.1:8080).
type Server struct {
	srv *http.Server

	mu       sync.Mutex // guards the fields below
	ln       net.Listener
	served   chan struct{} // closed when Serve returns
	serveErr error         // Serve's error other than ErrServerClosed
}

// Timeouts protect the server from slow clients; every endpoint answers from
// memory, so none of them needs long.
const (
	readHeaderTimeout = 10 * time.Second
	readTimeout       = 30 * time.Second
	writeTimeout      = 30 * time.Second
	idleTimeout       = 60 * time.Second
)

// NewServer prepares a server for addr ("host:port"; port 0 picks a free one).
func NewServer(addr string, h http.Handler) *Server {
	return &Server{srv: &http.Server{
		Addr:              addr,
		Handler:           h,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
	}}
}

// Start binds the address and serves in the background. It returns the bound
// address, so ":0" callers learn the port.
func (s *Server) Start() (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln != nil {
		return "", ErrServerStarted
	}
	ln, err := net.Listen("tcp", s.srv.Addr)
	if err != nil {
		return "", fmt.Errorf("api: listen %s: %w", s.srv.Addr, err)
	}
	s.ln = ln
	s.served = make(chan struct{})
	go func() {
		defer close(s.served)
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.mu.Lock()
			s.serveErr = err
			s.mu.Unlock()
		}
	}()
	return ln.Addr().String(), nil
}

// Addr returns the bound address, or "" before Start.
func (s *Server) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln == nil {
		return ""
	}
	return s.ln.Addr().String()
}

// Shutdown stops accepting connections and waits, until ctx ends, for active
// requests to finish. It returns ctx's error if they did not, or the error
// that stopped serving early. Calling it before Start is a no-op.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	served := s.served
	s.mu.Unlock()
	if served == nil {
		return nil
	}
	if err := s.srv.Shutdown(ctx); err != nil {
		return fmt.Errorf("api: shutdown: %w", err)
	}
	select {
	case <-served:
	case <-ctx.Done():
		return fmt.Errorf("api: shutdown: %w", ctx.Err())
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.serveErr
}
