package sandbox

// Mode is how a port behaves.
type Mode int

const (
	// Submission is port 587 (RFC 6409): plaintext greeting, STARTTLS,
	// AUTH required before MAIL.
	Submission Mode = iota
	// ImplicitTLS is port 465 (RFC 8314): TLS from the first byte, AUTH
	// required before MAIL.
	ImplicitTLS
	// Relay is port 25: STARTTLS offered but optional, no AUTH needed, and
	// mail accepted only for the server's own domains ("Relay access
	// denied" for others) unless the client authenticated.
	Relay
)

func (m Mode) String() string {
	switch m {
	case Submission:
		return "submission"
	case ImplicitTLS:
		return "implicit-tls"
	case Relay:
		return "relay"
	}
	return "unknown"
}

// ModeForPort is the mode DialContext uses for a port: 25 relay, 465
// implicit TLS, anything else submission.
func ModeForPort(port int) Mode {
	switch port {
	case 25:
		return Relay
	case 465:
		return ImplicitTLS
	}
	return Submission
}
