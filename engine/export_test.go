package engine

// SetMaxStreamedMessage lowers the bound on a streamed message for a test
// (the race detector makes 64 MiB slow) and returns the undo.
func SetMaxStreamedMessage(n int) (undo func()) {
	old := maxStreamedMessage
	maxStreamedMessage = n
	return func() { maxStreamedMessage = old }
}
