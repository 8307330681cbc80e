package oauth

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/url"

	"golang.org/x/oauth2"
)

// Kind says why getting a token failed.
type Kind string

const (
	Declined    Kind = "declined"    // the user said no (access_denied)
	Expired     Kind = "expired"     // the device code or the wait for the browser ran out
	Unreachable Kind = "unreachable" // the issuer could not be reached
	Timeout     Kind = "timeout"     // the issuer did not answer in time
	Interrupted Kind = "interrupted" // the caller cancelled (Ctrl-C)
	Malformed   Kind = "malformed"   // the issuer's answer was not a token response
	Refused     Kind = "refused"     // the issuer answered with an OAuth error, or redirected
	Setup       Kind = "setup"       // something is missing before any request: client ID, endpoint, a usable cache
	NotCached   Kind = "not cached"  // NoSignIn was set and there is no token to use or refresh
)

// Error is a failure to get a token. Its text is escaped for a terminal
// and has every secret the flow knew masked, whatever the issuer echoed.
type Error struct {
	Kind Kind
	Msg  string
	Err  error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return e.Msg + ": " + e.Err.Error()
	}
	return e.Msg
}

func (e *Error) Unwrap() error { return e.Err }

// shown is the error as the flow hands it out: one line, escaped and
// masked, the cause folded into the message, so that no unmasked text is
// left anywhere in it.
func (f *flow) shown(err error) error {
	if err == nil {
		return nil
	}
	var oe *Error
	if !errors.As(err, &oe) {
		oe = &Error{Kind: Malformed, Err: err}
	}
	return &Error{Kind: oe.Kind, Msg: f.m.show(oe.Error())}
}

// classify turns an error from x/oauth2 or the network into an *Error.
func (f *flow) classify(what string, err error) error {
	var (
		re  *oauth2.RetrieveError
		ue  *url.Error
		ne  net.Error
		oe  *Error
		red *errRedirect
	)
	switch {
	case errors.As(err, &oe):
		return err
	case f.ctx.Err() != nil && errors.Is(context.Cause(f.ctx), context.Canceled):
		return &Error{Kind: Interrupted, Msg: what + ": interrupted"}
	case f.ctx.Err() != nil:
		return &Error{Kind: Timeout, Msg: what + ": the issuer did not answer in time (the command's deadline passed)"}
	case f.bt != nil && f.bt.timedOut.Load():
		return &Error{Kind: Timeout, Msg: what + ": the issuer did not answer in time (" + f.bt.timeout.String() + " for one request)"}
	case errors.As(err, &red):
		return &Error{Kind: Refused, Msg: what + ": " + red.Error()}
	case errors.As(err, &re):
		code, desc := re.ErrorCode, re.ErrorDescription
		if code == "" {
			// x/oauth2 reads the error of a token request, not of a
			// device authorization request (RFC 8628 3.2 has the same
			// error response, RFC 6749 5.2).
			var body struct {
				Error       string `json:"error"`
				Description string `json:"error_description"`
			}
			if json.Unmarshal(re.Body, &body) == nil {
				code, desc = body.Error, body.Description
			}
		}
		switch code {
		case "access_denied":
			return &Error{Kind: Declined, Msg: what + ": you declined the request"}
		case "expired_token":
			return &Error{Kind: Expired, Msg: what + ": the device code expired before it was approved; run the command again"}
		case "":
			return &Error{Kind: Malformed, Msg: what + ": the issuer answered " + re.Response.Status + " without an OAuth error"}
		}
		msg := what + ": the issuer refused: " + code
		if desc != "" {
			msg += " (" + desc + ")"
		}
		return &Error{Kind: Refused, Msg: msg}
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		// Neither the caller's deadline or Ctrl-C nor a request's own
		// deadline (handled above): the device code's lifetime, which
		// x/oauth2 sets as the polling's deadline, ending a poll in
		// flight or the wait for the next.
		return &Error{Kind: Expired, Msg: what + ": the device code expired before it was approved; run the command again"}
	case errors.As(err, &ue), errors.As(err, &ne):
		return &Error{Kind: Unreachable, Msg: what + ": cannot reach the issuer", Err: err}
	}
	// What is left from x/oauth2 is a response it could not read as a
	// token: not JSON, or no access_token in it.
	return &Error{Kind: Malformed, Msg: what + ": the issuer's answer is not a valid token response", Err: err}
}
