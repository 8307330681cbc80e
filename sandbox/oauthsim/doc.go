// Package oauthsim is the sandbox's OAuth 2.0 authorization server: it
// issues access and refresh tokens for the emulated providers that have
// one, by the device authorization grant (RFC 8628) and the authorization
// code grant with PKCE (RFC 7636), and judges the bearer tokens an SMTP
// session is given (Issuer.Check): exactly the tokens it issued pass,
// while they last and for the scope they were issued for.
//
// Any client ID is taken: the user's own app registration is something
// only the real provider can check.
//
// The package knows nothing of SMTP; the sandbox asks it one question per
// AUTH XOAUTH2 or OAUTHBEARER, and serves its endpoints (Issuer.Handler)
// over HTTP or in process (Client).
package oauthsim
