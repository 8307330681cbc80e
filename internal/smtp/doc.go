// Package smtp is smtprun's SMTP protocol knowledge, written once: reply
// lines and multi-line replies (ReadReply, ParseReplyLine, Escape for
// showing them), reply-code patterns, enhanced status codes (RFC 3463),
// EHLO capabilities, the CRAM-MD5 digest, and the command table.
//
// The command table (commands.go) lists every verb smtprun knows, with
// the reply codes a command has of its own (354 answers DATA alone, 221
// QUIT, 220 the greeting and STARTTLS) and whether load mode gives it a
// latency row; the pseudo-verbs Greeting and Message stand for the two
// replies that answer no command line. The language's order check asks it
// which command an expect can read (CanAnswer), the engine queues the
// pseudo-verbs beside the commands it sent, load mode names its rows by
// it, and the sandbox spells and recognizes commands through it. The
// engine (client) and the sandbox (server) both parse replies here, so
// they cannot disagree on what a reply is.
package smtp
