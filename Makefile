# Build, test and run the bridge. `make test` is what CI runs (see .ci/run).
GO       ?= go
BIN      := bin/videobridge
CONFIG   ?=
PKGS     := ./...

.PHONY: build test test-short run lint fuzz bench bench-micro clean

build:
	CGO_ENABLED=0 $(GO) build -trimpath -o $(BIN) ./cmd/videobridge

# The whole suite: unit, fuzz seeds, and the integration tests against a real Prosody
# and headless Chromium (the tests start both themselves, Chromium inside `unshare -n`; install
# them first: apt-get install -y prosody chromium).
test:
	$(GO) test -count=1 -timeout 15m $(PKGS)

# Unit tests only (no Prosody needed).
test-short:
	$(GO) test -short -count=1 $(PKGS)

# Runs the bridge on its embedded defaults (UDP 10000, private HTTP 127.0.0.1:8080), or on
# an existing jvb.conf: make run CONFIG=/etc/jitsi/videobridge/jvb.conf
run: build
	./$(BIN) $(if $(CONFIG),--config $(CONFIG))

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)

# A short run of every fuzz target (FUZZTIME per target).
FUZZTIME ?= 15s
fuzz:
	@for pkg in $$($(GO) list ./...); do \
	  for t in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
	    echo "fuzz $$pkg $$t"; $(GO) test -run '^$$' -fuzz "^$$t$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
	  done; \
	done

# The load harness (bench/, cmd/bench): starts bin/videobridge, a private Prosody and the embedded
# focus on loopback, runs SCENARIO and writes bench/results/<scenario>-<time>/ (result.json,
# summary.md, report.html, SVG plots). Needs prosody (apt-get install -y prosody). On two or more
# CPUs the bridge and the harness are pinned to different cores. Examples:
#   make bench SCENARIO=lecture
#   make bench SCENARIO=lecture NET=veth   (bridge and harness in two network namespaces joined
#                                           by a veth pair, each paying its own receive work;
#                                           needs root and iproute2)
#   make bench BENCHFLAGS='capacity --scenario many-small'   (see ./bin/bench -h)
SCENARIO   ?= meeting-10
NET        ?= loopback
BENCHPIN   ?= $(shell [ "$$(nproc)" -ge 2 ] && echo --bridge-cpus 1 --generator-cpus 0)
BENCHFLAGS ?= --scenario $(SCENARIO)
bench: build
	CGO_ENABLED=0 $(GO) build -trimpath -o bin/bench ./cmd/bench
	./bin/bench $(BENCHFLAGS) --net $(NET) --bridge-bin $(BIN) $(BENCHPIN)

# Go micro-benchmarks (per-packet costs and allocations).
bench-micro:
	$(GO) test -run '^$$' -bench . -benchmem $(PKGS)

clean:
	rm -rf bin
