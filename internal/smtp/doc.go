// Package smtp is smtprun's one copy of SMTP's protocol knowledge: reply
// lines and multi-line replies, reply codes and code patterns, enhanced
// status codes, EHLO capabilities and command names. The engine (client),
// the sandbox (server) and the knowledge base all read the protocol
// through it, so that they cannot disagree on what a reply is.
package smtp
