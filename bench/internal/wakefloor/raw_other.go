//go:build !linux

package main

import (
	"errors"
	"net"
)

type rawIO struct{}

func newRawIO(*net.UDPConn, int) (*rawIO, error) { return nil, errors.New("-raw needs Linux") }

func (*rawIO) read([]byte) error { return nil }

func (*rawIO) send([]byte) int { return 0 }
