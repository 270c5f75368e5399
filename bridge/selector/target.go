package selector

// TargetEncoding picks the encoding a receiver should get under a maxHeight
// constraint (ReceiverVideoConstraints; -1 means unconstrained): the highest
// encoding whose height is at most maxHeight among those actually arriving.
// heights[i] is the height (the smaller dimension) of encoding i and
// active[i] whether its packets are arriving; a missing active entry counts
// as not arriving.
//
// Chrome stops simulcast layers when short of bandwidth or told so by
// SenderSourceConstraints, so a selector waiting for an exact layer would
// forward nothing (environment.md §6): when no arriving encoding fits, the
// lowest arriving one is taken, as JVB still considers the lowest layer of a
// sender with nothing at or below maxHeight (media.md §3.4). It returns -1
// when maxHeight is 0 or nothing arrives.
//
// Until the bandwidth allocator sets targets, a receiver's target is this
// encoding with all temporal layers (TargetLayer).
func TargetEncoding(maxHeight int, heights []int, active []bool) int {
	if maxHeight == 0 {
		return -1
	}
	best, lowest := -1, -1
	for i, h := range heights {
		if i >= len(active) || !active[i] {
			continue
		}
		if lowest < 0 || h < heights[lowest] {
			lowest = i
		}
		if (maxHeight < 0 || h <= maxHeight) && (best < 0 || h >= heights[best]) {
			best = i
		}
	}
	if best < 0 {
		return lowest
	}
	return best
}

// TargetLayer is TargetEncoding as a Layer with every temporal layer, or
// Suspended.
func TargetLayer(maxHeight int, heights []int, active []bool) Layer {
	e := TargetEncoding(maxHeight, heights, active)
	if e < 0 || e > 127 {
		return Suspended
	}
	return Layer{Encoding: int8(e), Temporal: MaxTemporal}
}
