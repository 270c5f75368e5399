package udp

import "sync"

// MTU is the size of every packet buffer: the largest datagram the bridge receives or sends.
// Ethernet-sized paths carry at most 1500-byte IP packets, and WebRTC stacks keep RTP well under
// that (Chrome ~1200 bytes), so a longer datagram is truncated and dropped, not fragmented.
const MTU = 1500

// Buffer is one fixed-size packet buffer. Buffers travel by pointer between the reader, the
// endpoints and the writer, so a packet is never copied between pipeline stages.
type Buffer [MTU]byte

// bufferPool is the process-wide typed pool of packet buffers (wireguard-go pools.go style):
// fixed-size arrays, so Get never allocates a slice header and Put never has to check a size.
var bufferPool = sync.Pool{New: func() any { return new(Buffer) }}

// GetBuffer returns a buffer from the pool. Its contents are zero or were cleared on Put.
func GetBuffer() *Buffer { return bufferPool.Get().(*Buffer) }

// PutBuffer clears the first n bytes of b (the part that was used, so decrypted media never
// lingers in a free buffer) and returns it to the pool. b must not be used afterwards.
func PutBuffer(b *Buffer, n int) {
	if b == nil {
		return
	}
	clear(b[:min(max(n, 0), MTU)])
	bufferPool.Put(b)
}
