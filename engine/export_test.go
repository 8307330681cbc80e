package engine

// SetMaxStreamedMessage lowers the bound on a streamed message for a test
// (the race detector makes 64 MiB slow) and returns the undo.
func SetMaxStreamedMessage(n int) (undo func()) {
	old := maxStreamedMessage
	maxStreamedMessage = n
	return func() { maxStreamedMessage = old }
}

// SetStallGuard switches the post-handshake quick-ack guard on or off,
// so the stall test and benchmark can show the difference.
func SetStallGuard(on bool) { stallGuardOff = !on }
