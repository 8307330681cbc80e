// Package engine runs a checked .smtp script (a *dsl.Program, from
// dsl.Parse and dsl.Check) against a mail server: it dials,
// writes command lines, reads and checks replies (RFC 5321 4.2), upgrades
// with STARTTLS (RFC 3207), runs SASL exchanges and sends message data.
//
// It is a library: it prints nothing and never exits. Everything that
// happens is reported to an Observer as Events, which carry facts (the
// role of a line, a notice code, the step index, times), never sentences:
// cmd/smtprun words them, with the knowledge base in explain. Run returns
// a Result with each step's outcome and times, and a typed error
// (*AssertError, *ProtocolError, *TimeoutError, *NetError, *PolicyError,
// *InputError, *dsl.Error) that says whose doing a failure was (the
// script's, the server's, the network's), which the command turns into
// an exit code and help; causes such as x509.HostnameError stay wrapped for errors.As.
//
// SASL mechanisms come from internal/sasl's table; the engine drives
// the 334 exchange the same way for each and masks the responses the
// mechanism marks as secret. Secrets are masked at two exits: every event
// passes session.emit, which calls the event's redact method (an event
// type without one does not compile), and every error and Result passes
// the end of Run.
//
// A repeat block runs its steps on the same connection as many times as
// it says; an error inside is an *IterationError that says which
// iteration. A count read from a variable is held to dsl.MaxSteps for
// the whole run before the block starts (InputError InputTooManySteps). For load mode, WithLean drops the transcript (no per-line
// events, no outcomes; ReplyTime instead of Received) and
// WithTLSSessionCache resumes TLS sessions across runs.
//
// An Engine holds no global state and Programs are immutable, so several
// runs, of one Program or of many, can go on at once in one process.
package engine
