package receiver

// DuplicateWindow is the number of sequence numbers behind the highest one
// for which duplicates are detected (JVB remembers the last 1500 per SSRC,
// media.md §2.5 and §6). Chrome probes bandwidth by resending media packets
// as RTX, so after unwrapping, duplicates are routine, not rare.
const DuplicateWindow = 1500

// dupBits is the bitmap size: the power of two above DuplicateWindow, so a
// slot is a mask away and slots of the window never alias.
const dupBits = 2048

// dupWindow is a bitmap of received unwrapped sequence numbers, indexed
// modulo dupBits, like the SRTP replay list (RFC 3711 §3.3.2).
type dupWindow struct {
	bits    [dupBits / 64]uint64
	highest uint64
	started bool
}

// mark records seq64 and reports DropNone when it is new, DropDuplicate when
// it was already marked, and DropTooOld when it is DuplicateWindow or more
// behind the highest (nothing can be said about it then).
func (w *dupWindow) mark(seq64 uint64) DropReason {
	switch {
	case !w.started:
		w.started, w.highest = true, seq64
	case seq64 > w.highest:
		// The slots ahead of the old highest last held numbers that have
		// now left the window: clear them before reuse.
		if seq64-w.highest >= dupBits {
			w.bits = [dupBits / 64]uint64{}
		} else {
			for s := w.highest + 1; s < seq64; s++ {
				w.bits[s/64%(dupBits/64)] &^= 1 << (s % 64)
			}
		}
		w.highest = seq64
	case w.highest-seq64 >= DuplicateWindow:
		return DropTooOld
	case w.bits[seq64/64%(dupBits/64)]&(1<<(seq64%64)) != 0:
		return DropDuplicate
	}
	w.bits[seq64/64%(dupBits/64)] |= 1 << (seq64 % 64)
	return DropNone
}
