// Package rtp holds the zero-copy packet primitives of the media core: RFC 7983
// first-byte demultiplexing, an in-place RTP view with RFC 8285 header
// extensions, 64-bit unwrapping of sequence numbers and timestamps, the VP8
// payload descriptor (RFC 7741), compound RTCP walking and writing, and RTX
// (RFC 4588) wrapping.
//
// Everything here runs once or more per packet, so the package follows the
// data-plane rules of ARCHITECTURE.md: no heap allocation per call, no locks,
// no logging, and no imports of other project packages. Parsers return a
// DropReason (a small enum a caller can count) instead of an error, and
// writers return the number of bytes written (0 when they cannot write) or an
// appended slice.
//
// Views keep a reference to the caller's buffer: they are valid only as long
// as that buffer is not reused.
package rtp
