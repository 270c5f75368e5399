//go:build !packetdebug

package packet

// debug enables the checks of the packetdebug build tag.
const debug = false
