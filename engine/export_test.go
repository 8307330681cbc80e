package engine

// SetStallGuard switches the post-handshake quick-ack guard on or off,
// so the stall test and benchmark can show the difference.
func SetStallGuard(on bool) { stallGuardOff = !on }
