package present

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"syscall"

	"fmt"
	"github.com/smtprun/smtprun/engine"
	"github.com/smtprun/smtprun/explain"
	"github.com/smtprun/smtprun/sandbox"
)

// helpFor returns the advice for a run error. The engine says what went
// wrong as a type, a rule or a wrapped cause; the words are in the
// knowledge base (explain/data/help.yaml), looked up by a code chosen here
// with errors.As and errors.Is, never from the error's text.
func helpFor(err error) string {
	code, args := helpCode(err)
	if code == "" {
		return ""
	}
	text, _ := explain.Help(code, args...)
	return text
}

func helpCode(err error) (code string, args []string) {
	var (
		ie      *engine.InputError
		po      *engine.PolicyError
		te      *engine.TimeoutError
		ne      *engine.NetError
		dnsErr  *net.DNSError
		hostErr x509.HostnameError
		authErr x509.UnknownAuthorityError
		certErr x509.CertificateInvalidError
		recErr  tls.RecordHeaderError
	)
	switch {
	case errors.As(err, &ie):
		return string(ie.Code), nil
	case errors.As(err, &po):
		return string(po.Rule), nil
	case errors.As(err, &te) && te.Greeting && te.Port == "465":
		return "timeout-implicit-tls", nil
	case errors.As(err, &te) && te.Greeting:
		return "timeout-greeting", []string{"port", te.Port}
	case errors.As(err, &te):
		return "timeout", nil
	case errors.Is(err, engine.ErrNotConnected):
		return "not-connected", nil
	case errors.Is(err, engine.ErrNotConfirmed):
		return "not-confirmed", nil
	case errors.Is(err, engine.ErrSTARTTLSRefused):
		return "starttls-refused", nil
	case errors.As(err, &authErr):
		return "tls-unknown-authority", nil
	case errors.As(err, &hostErr):
		return "tls-hostname", nil
	case errors.As(err, &certErr) && certErr.Reason == x509.Expired:
		return "tls-expired", nil
	case errors.As(err, &recErr):
		return "tls-not-tls", nil
	case errors.As(err, &dnsErr):
		return "dns", nil
	case errors.Is(err, syscall.ECONNREFUSED):
		port := "?"
		if errors.As(err, &ne) {
			if _, p, err := net.SplitHostPort(ne.Address); err == nil {
				port = p
			}
		}
		return "connection-refused", []string{"port", port}
	case errors.Is(err, syscall.ENETUNREACH), errors.Is(err, syscall.EHOSTUNREACH):
		return "unreachable", nil
	}
	return "", nil
}

// helpLines is the text filed under code, as the lines --explain prints.
func helpLines(code string, args ...string) []string {
	if text, ok := explain.Help(code, args...); ok {
		return []string{text}
	}
	return nil
}

// hintsFor returns the known-error hint for a failed run, if the error
// carries the server's reply.
func hintsFor(err error, host string) []string {
	var ae *engine.AssertError
	if !errors.As(err, &ae) || ae.Got == nil || ae.Got.Code < 400 {
		return nil
	}
	if ae.OAuth != nil {
		return []string{"hint: " + oauthHint(*ae.OAuth, host)}
	}
	if hints := explain.HintsFor(ae.Got.Code, ae.Got.Text, host); len(hints) > 0 {
		return []string{"hint: " + hints[0].Text}
	}
	return nil
}

// oauthHint says what to do about a token the server refused with a JSON
// challenge: a 401 or invalid_token is a token that expired or was
// revoked; otherwise, most often, one issued for the wrong scope.
func oauthHint(o engine.OAuthError, host string) string {
	provider := sandbox.ProfileForHost(host)
	switch o.Status {
	case "401", "invalid_token":
		if provider == "office365" || provider == "gmail" {
			return fmt.Sprintf("the access token has expired or was revoked: refresh it with `smtprun token %s` (or run with --oauth %s)", provider, provider)
		}
		return "the access token has expired or was revoked: get a fresh one (`smtprun token PROVIDER` refreshes a cached one)"
	}
	scope := o.Scope
	if scope == "" {
		scope = "the provider's mail scope"
	}
	return fmt.Sprintf("the token was refused (status %s); it must be a current access token issued with the scope %s (`smtprun token --scope`), for the same account as the user name", o.Status, scope)
}
