package main

import (
	"net"
	"syscall"
	"unsafe"
)

// rawIO reads and sends with raw system calls on the non-blocking socket, parking in the
// runtime's netpoller only when nothing is there (as the bridge's socket reader does).
type rawIO struct {
	rc  syscall.RawConn
	dst []syscall.RawSockaddrInet4 // the receivers
}

func newRawIO(c *net.UDPConn, n int) (*rawIO, error) {
	rc, err := c.SyscallConn()
	if err != nil {
		return nil, err
	}
	r := &rawIO{rc: rc, dst: make([]syscall.RawSockaddrInet4, n)}
	for i := range r.dst {
		port := fwdPort + 1 + i
		r.dst[i] = syscall.RawSockaddrInet4{Family: syscall.AF_INET, Addr: [4]byte{127, 0, 0, 1},
			Port: uint16(port>>8) | uint16(port&0xff)<<8} // network byte order
	}
	return r, nil
}

func (r *rawIO) read(b []byte) error {
	var errno syscall.Errno
	err := r.rc.Read(func(fd uintptr) bool {
		_, _, errno = syscall.RawSyscall6(syscall.SYS_RECVFROM, fd, uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)), 0, 0, 0)
		return errno != syscall.EAGAIN
	})
	if err != nil {
		return err
	}
	if errno != 0 {
		return errno
	}
	return nil
}

func (r *rawIO) send(b []byte) (sent int) {
	_ = r.rc.Write(func(fd uintptr) bool {
		for i := range r.dst {
			_, _, errno := syscall.RawSyscall6(syscall.SYS_SENDTO, fd, uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)), 0,
				uintptr(unsafe.Pointer(&r.dst[i])), unsafe.Sizeof(r.dst[i]))
			if errno == 0 {
				sent++
			}
		}
		return true
	})
	return sent
}
