//go:build packetdebug

package packet

// debug enables the checks of the packetdebug build tag: a double Release
// panics and released buffers are poisoned.
const debug = true
