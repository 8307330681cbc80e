// Package sasl holds the SASL mechanisms (RFC 4422) that the auth step
// speaks over SMTP AUTH (RFC 4954). Each is a go-sasl Client that also
// says what each of its responses carries (a user name, a password, a
// packed credential, a digest, an OAuth bearer token), so the engine can
// mask the secret ones and the transcript can name them without knowing
// the mechanism.
//
// The mechanisms are one table (registry in sasl.go): the name, whether
// the client may send an initial response with AUTH, whether the secret
// is an OAuth bearer token, and the client. The language accepts exactly
// its names, the engine looks the client up by name, the sandbox's
// profiles may offer only its mechanisms (and refuse an initial response
// where the table says the server speaks first), the test server offers
// them all, and "is this OAuth?" is asked of it (IsOAuth). The OAuth
// clients (XOAUTH2, OAUTHBEARER) also answer a server's JSON error
// challenge (RFC 7628 3.2.3) and report it through an OAuthFailure method
// the engine looks for.
package sasl
