// Package sandbox is smtprun's practice mail servers: in-process emulations
// of real mail providers (Microsoft 365, Gmail, Yahoo, AOL and a generic
// Postfix host) for people learning SMTP who cannot, or should not, touch
// the real servers.
//
// A Sandbox serves whole SMTP conversations (RFC 5321) with STARTTLS
// (RFC 3207), implicit TLS (RFC 8314), AUTH PLAIN/LOGIN/CRAM-MD5/XOAUTH2/
// OAUTHBEARER (RFC 4954, RFC 7628), PIPELINING (RFC 2920), SIZE (RFC 1870) and CHUNKING (RFC 3030),
// and answers byte for byte like the real provider where it matters:
// greeting, EHLO lines before and after TLS, the STARTTLS reply, AUTH
// prompts and the error texts. TLS is real: the sandbox makes its own
// certificate authority, issues certificates for the emulated host names,
// and a client verifies them against RootCAs.
//
// Two ways in:
//
//   - DialContext, a drop-in dialer: a script connects to
//     smtp.office365.com:587 and talks to the Office 365 emulation over a
//     loopback TCP connection; the connection claims the provider's address
//     as its remote address so the client applies its usual policies.
//   - Serve, for real clients (swaks, Thunderbird) on a real listener.
//
// It also emulates the providers' OAuth 2.0 endpoints (package oauthsim:
// device authorization, the authorization code grant with PKCE, refresh),
// for `smtprun token --sandbox` (OAuthClient) or over HTTP (OAuthHandler),
// and its SMTP sessions take exactly the bearer tokens it issued.
//
// Providers are data: one YAML file per provider in profiles/ (embedded)
// holds what the emulation says, and the provider catalogue
// (internal/provider) what is true of the real provider, which the
// profile reads: its hosts, ports and OAuth scope. Scenarios (bad credentials,
// greylisting, a full mailbox, ...) are listed in scenarios.yaml; what each
// one does is in scenarios.go. The protocol state machine (session.go) is the
// same for every provider.
//
// Every client is treated as hostile, since Serve's clients are other
// people's programs: memory per connection is bounded whatever a client
// announces (messages stream through spool.go), the save directory has a
// quota, AUTH locks after a run of failures, credentials are masked where
// the command is parsed (command.go) and never leave the session, and text
// a client controls is made safe before it is echoed in a reply or shown
// (escape.go).
//
// With Options.Explain the sandbox is a coach (coach.go, its texts in
// coach.yaml): it reports a client's mistakes as Diagnosis events as they
// happen (bare LF, not waiting for a reply, no EHLO after STARTTLS, AUTH
// answers not in base64, dot-stuffing, ...) and a ReportCard per session,
// without changing how the session answers. With Options.Record each
// session is handed over as a script that replays it (record.go); with
// SaveDir each message has its envelope beside it (envelope.go).
package sandbox
