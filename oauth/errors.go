package oauth

import (
	"context"
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
	Malformed   Kind = "malformed"   // the issuer's answer was not a token response
	Refused     Kind = "refused"     // the issuer answered with an OAuth error
	Setup       Kind = "setup"       // something is missing before any request: client ID, endpoint
)

// Error is a failure to get a token.
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

// classify turns an error from x/oauth2 or the network into an *Error.
func classify(what string, err error) error {
	var (
		re *oauth2.RetrieveError
		ue *url.Error
		ne net.Error
		oe *Error
	)
	switch {
	case errors.As(err, &oe):
		return err
	case errors.As(err, &re):
		switch re.ErrorCode {
		case "access_denied":
			return &Error{Kind: Declined, Msg: what + ": you declined the request"}
		case "expired_token":
			return &Error{Kind: Expired, Msg: what + ": the device code expired before it was approved; run the command again"}
		case "":
			return &Error{Kind: Malformed, Msg: what + ": the issuer answered " + re.Response.Status + " without an OAuth error"}
		}
		msg := what + ": the issuer refused: " + re.ErrorCode
		if re.ErrorDescription != "" {
			msg += " (" + re.ErrorDescription + ")"
		}
		return &Error{Kind: Refused, Msg: msg}
	case errors.Is(err, context.DeadlineExceeded):
		return &Error{Kind: Expired, Msg: what + ": the code expired before it was approved; run the command again"}
	case errors.Is(err, context.Canceled):
		return &Error{Kind: Declined, Msg: what + ": interrupted", Err: err}
	case errors.As(err, &ue), errors.As(err, &ne):
		return &Error{Kind: Unreachable, Msg: what + ": cannot reach the issuer", Err: err}
	}
	// What is left from x/oauth2 is a response it could not read as a
	// token: not JSON, or no access_token in it.
	return &Error{Kind: Malformed, Msg: what + ": the issuer's answer is not a valid token response", Err: err}
}
