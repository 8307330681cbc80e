// Package sasl holds the SASL mechanisms (RFC 4422) that the auth step
// speaks over SMTP AUTH (RFC 4954). Each is a go-sasl Client that also
// says what each of its responses carries (a user name, a password, a
// packed credential, a digest), so the engine can mask the secret ones and
// the transcript can name them without knowing the mechanism.
//
// The mechanisms live in one registry, looked up by name: adding one (say
// XOAUTH2) is one more entry there, and the language accepts it because it
// asks the registry.
package sasl
