package api

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"runtime"
	"strings"

	"go.uber.org/zap"
)

const (
	contentTypeJSON = "application/json"
	contentTypeText = "text/plain; charset=utf-8"

	// maxShutdownBody bounds the /colibri/shutdown body; the real one is
	// about 30 bytes.
	maxShutdownBody = 64 << 10
)

// health answers 200 with an empty body and Content-Type application/json when
// healthy (docker's `curl --fail-with-body` healthcheck and load balancers
// only look at the status), otherwise 500 with the reason as text — JVB's
// default for a hard failure (signaling.md §5.2).
func (h *handler) health(w http.ResponseWriter, r *http.Request) {
	if err := h.b.Health(); err != nil {
		w.Header().Set("Content-Type", contentTypeText)
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = io.WriteString(w, err.Error())
		return
	}
	w.Header().Set("Content-Type", contentTypeJSON)
	w.WriteHeader(http.StatusOK)
}

// versionInfo is jicoco's Version resource body. Field order matters only for
// byte-exact comparisons; encoding/json keeps declaration order.
type versionInfo struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	OS      string `json:"os"`
}

// version answers {"name":"JVB","version":...,"os":"Linux"}. The name stays
// "JVB" because Jicofo and dashboards key on it.
func (h *handler) version(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, versionInfo{Name: "JVB", Version: h.opts.Version, OS: osName(runtime.GOOS)})
}

// osName maps GOOS to the Java os.name value JVB reports.
func osName(goos string) string {
	switch goos {
	case "linux":
		return "Linux"
	case "darwin":
		return "Mac OS X"
	case "windows":
		return "Windows"
	case "freebsd":
		return "FreeBSD"
	}
	return goos
}

// stats answers the flat /colibri/stats object in Stats() order; the body is
// built by hand because scripts diff it and humans read it top-down.
func (h *handler) stats(w http.ResponseWriter, r *http.Request) {
	body := AppendStatsJSON(make([]byte, 0, 4096), h.b.Stats())
	w.Header().Set("Content-Type", contentTypeJSON)
	_, _ = w.Write(body)
}

// drainState answers {"drain":true|false}.
func (h *handler) drainState(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, struct {
		Drain bool `json:"drain"`
	}{h.b.Drain()})
}

// drainSet returns the /colibri/drain/{enable,disable} route: 200, no body.
func (h *handler) drainSet(on bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		h.b.SetDrain(on)
		h.log.Info("drain mode set via REST", zap.Bool("drain", on), zap.String("remote", r.RemoteAddr))
		w.WriteHeader(http.StatusOK)
	}
}

// shutdown handles POST /colibri/shutdown {"graceful-shutdown": true}.
// true → GRACEFUL_SHUTDOWN, false → SHUTTING_DOWN (signaling.md §5.4).
// The Content-Type is not checked: resources/graceful_shutdown.sh sets it, but
// ad-hoc curl calls often do not, and the body is unambiguous either way.
func (h *handler) shutdown(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxShutdownBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			http.Error(w, "request body too large", http.StatusRequestEntityTooLarge)
			return
		}
		http.Error(w, "cannot read request body", http.StatusBadRequest)
		return
	}
	graceful, err := ParseShutdownRequest(body)
	if err != nil {
		h.log.Info("rejected shutdown request", zap.Error(err), zap.String("remote", r.RemoteAddr))
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	h.log.Info("shutdown requested via REST", zap.Bool("graceful", graceful), zap.String("remote", r.RemoteAddr))
	if graceful {
		h.b.StartGracefulShutdown()
	} else {
		h.b.StartShutdown()
	}
	w.WriteHeader(http.StatusOK)
}

// ParseShutdownRequest decodes a /colibri/shutdown body and returns the
// requested mode. The property is required (JVB: @JsonProperty(required=true));
// a JSON boolean or the string "true"/"false" in any case is accepted, because
// JVB's graceful_shutdown.sh sends the string form and Jackson coerces it.
func ParseShutdownRequest(body []byte) (graceful bool, err error) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(body, &obj); err != nil || obj == nil {
		return false, ErrShutdownBodyMalformed
	}
	raw, ok := obj["graceful-shutdown"]
	if !ok || string(raw) == "null" {
		return false, ErrShutdownPropertyMissing
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return false, ErrShutdownBodyMalformed
	}
	switch t := v.(type) {
	case bool:
		return t, nil
	case string:
		switch {
		case strings.EqualFold(t, "true"):
			return true, nil
		case strings.EqualFold(t, "false"):
			return false, nil
		}
	}
	return false, ErrShutdownPropertyInvalid
}

// writeJSON writes v as a JSON 200 response. v is always one of this file's
// fixed structs, so Marshal cannot fail.
func writeJSON(w http.ResponseWriter, v any) {
	b, _ := json.Marshal(v)
	w.Header().Set("Content-Type", contentTypeJSON)
	_, _ = w.Write(b)
}
