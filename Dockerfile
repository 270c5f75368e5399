# Multi-stage build: a static Go binary on a minimal base, run as a non-root user.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o /out/videobridge ./cmd/videobridge

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/videobridge /usr/bin/videobridge
# The same path Jitsi's packages use, so an existing jvb.conf can be mounted unchanged.
VOLUME /etc/jitsi/videobridge
USER nonroot:nonroot
# Media (ICE/DTLS/SRTP on one UDP port) and the private REST API (health, stats, metrics).
EXPOSE 10000/udp 8080
ENTRYPOINT ["/usr/bin/videobridge"]
CMD ["--config", "/etc/jitsi/videobridge/jvb.conf"]
