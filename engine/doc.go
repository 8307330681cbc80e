// Package engine runs a checked .smtp script (a *dsl.Program, from
// dsl.Parse and dsl.Check) against a mail server: it dials,
// writes command lines, reads and checks replies (RFC 5321 4.2), upgrades
// with STARTTLS (RFC 3207), runs SASL exchanges and sends message data.
//
// It is a library: it prints nothing and never exits. Everything that
// happens is reported to an Observer as Events, which cmd/smtprun renders
// as the transcript, and Run returns a typed error (*AssertError,
// *ProtocolError, *TimeoutError, *NetError, *dsl.Error) that the command
// maps to an exit code. An Engine holds no global state and Programs are
// immutable, so several runs, of one Program or of many, can go on at once
// in one process.
package engine
