//go:build race

package media

// raceEnabled: the race detector makes sync.Pool drop items at random (so that code relying
// on reuse is caught), so allocation counts mean nothing under it.
const raceEnabled = true
