// Package explain is the knowledge base behind smtprun's teaching mode and
// `smtprun explain`: short, sourced explanations of SMTP commands, reply
// codes (RFC 5321 4.2), enhanced status codes (RFC 3463 and the IANA
// registry, plus provider-specific meanings), EHLO keywords, AUTH
// mechanisms and 334 challenges, and hints for errors that people actually
// meet (Microsoft 365, Gmail, Yahoo/AOL, Postfix, ...).
//
// The knowledge is data, not code: YAML files under data/, embedded
// (//go:embed) and decoded strictly (an unknown field is an error). Each entry
// names its source (an RFC and section, the IANA registry, or the provider's
// documentation). Adding an explanation or a hint means editing a data file:
//
//	data/commands.yaml    commands (EHLO, MAIL, ...)
//	data/mechanisms.yaml  SASL mechanisms (PLAIN, LOGIN, XOAUTH2, ...)
//	data/replies.yaml     reply classes, categories and codes
//	data/enhanced.yaml    enhanced status classes, subjects, IANA details and
//	                      provider-specific meanings
//	data/keywords.yaml    EHLO keywords
//	data/parameters.yaml  MAIL FROM / RCPT TO parameters
//	data/challenges.yaml  decoded 334 challenges
//	data/hints.yaml       known errors and what to do
//
// Real provider replies are the catalogue's (internal/replies): a reply
// the catalogue knows is explained first with its provider's meaning,
// cause, fix and source. FindReplies and ParseBounce take apart what
// people paste and whole bounce messages (RFC 3464 DSNs, Exchange and
// Gmail non-delivery reports) into the replies they quote.
//
// The providers that enhanced.yaml and hints.yaml name (microsoft, google,
// yahoo, with their aliases and how to recognize them) are the catalogue
// in internal/provider, which the sandbox shares.
//
// The package is pure: no network, no printing, no state that callers can
// change. Every function reads the embedded data, which is loaded once.
package explain
