package xmpp

import "time"

// SetBackoffForTest shortens the reconnect and re-join delays for tests in package xmpp_test.
func SetBackoffForTest(c *Client, minDelay, maxDelay time.Duration) {
	c.backoffMin, c.backoffMax = minDelay, maxDelay
}

// SetPingForTest changes the XEP-0199 ping interval and timeout.
func SetPingForTest(c *Client, interval, timeout time.Duration) {
	c.pingInterval, c.pingTimeout = interval, timeout
}
