//go:build !linux

package engine

import "net"

// quickAck is Linux's TCP_QUICKACK; elsewhere it does nothing.
func quickAck(net.Conn) {}
