// Package web is the live view of a running sandbox (`smtprun serve
// --web`): an HTTP API under /api/v1, described by the OpenAPI document it
// serves at /api/v1/openapi.json, a page that updates itself from
// server-sent events, and the safety rules both follow.
//
// It reads the sandbox's typed events (sandbox.Event) only: the Observer
// that prints the terminal transcript and this one see the same facts.
// Sessions and messages are kept in memory up to a bound (Limits), the
// oldest dropped first; a message's content is read from the .eml file
// the sandbox saved, never held whole in memory.
//
// Changing requests (PUT, POST, DELETE) need the per-run token the page
// reads from GET /api/v1/token, in the X-Smtprun-Token header, and are
// refused when the browser says they come from another origin (Origin,
// Sec-Fetch-Site). Message HTML is served with a content security policy
// that sandboxes it into an opaque origin without scripts, and the page
// builds its DOM from text, never from markup in the data.
package web
