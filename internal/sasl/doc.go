// Package sasl holds the SASL mechanisms (RFC 4422) that the auth step
// speaks over SMTP AUTH (RFC 4954). Each is a go-sasl Client that also
// says what each of its responses carries (a user name, a password, a
// packed credential, a digest, an OAuth bearer token), so the engine can
// mask the secret ones and the transcript can name them without knowing
// the mechanism.
//
// The mechanisms live in one registry, looked up by name: adding one is
// one more entry there, and the language accepts it because it asks the
// registry. The OAuth ones (XOAUTH2, OAUTHBEARER) also answer a server's
// JSON error challenge (RFC 7628 3.2.3) and report it (OAuthFailure).
package sasl
