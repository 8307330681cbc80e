// Package oauth gets OAuth 2.0 access tokens for SMTP: the device
// authorization grant (RFC 8628, Microsoft's choice for command-line
// tools), the authorization code grant with PKCE and a loopback redirect
// (RFC 7636, RFC 8252, Google's for installed apps), and refresh, all
// through golang.org/x/oauth2. Tokens are cached per provider and account
// in files only the user can read. The user brings their own app
// registration (client ID); none is built in. The built-in providers,
// their endpoints and the scopes SMTP needs are the provider catalogue's
// (internal/provider), which the sandbox's emulation reads too.
//
// Prompts go to a writer the caller gives (the command's stderr), never to
// stdout, so the token alone can be captured.
package oauth
