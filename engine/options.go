package engine

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"time"

	"github.com/smtprun/smtprun/dsl"
)

// Dialer opens the TCP connection for a connect step. *net.Dialer is one;
// the sandbox provides another that serves emulated providers in-process.
type Dialer interface {
	DialContext(ctx context.Context, network, address string) (net.Conn, error)
}

// Option configures an Engine.
type Option func(*Engine)

// WithTimeout bounds every wait: connect, TLS handshake, each reply and
// each write. The default is 30 seconds.
func WithTimeout(d time.Duration) Option { return func(e *Engine) { e.timeout = d } }

// WithRootCAs sets the certificates TLS verification trusts. Nil means the
// system roots.
func WithRootCAs(pool *x509.CertPool) Option { return func(e *Engine) { e.roots = pool } }

// WithInsecure skips certificate verification; the TLS event says so.
func WithInsecure(on bool) Option { return func(e *Engine) { e.insecure = on } }

// WithPlaintextAuth allows auth over an unencrypted connection to a peer
// that is not a loopback address.
func WithPlaintextAuth(on bool) Option { return func(e *Engine) { e.plaintextAuth = on } }

// WithVars sets where ${NAME} references are looked up.
func WithVars(v dsl.Vars) Option { return func(e *Engine) { e.vars = v } }

// WithDialer replaces the network dialer.
func WithDialer(d Dialer) Option { return func(e *Engine) { e.dialer = d } }

// WithObserver receives every event of a run.
func WithObserver(o Observer) Option { return func(e *Engine) { e.observer = o } }

// WithBeforeStep calls f before each step with the StepStarted event that
// follows (its Source masked like every event); f may block (to
// single-step a lesson) and returns ErrStopped to end the run politely
// (QUIT is sent where it can be) or another error to abort it.
func WithBeforeStep(f func(ctx context.Context, next StepStarted) error) Option {
	return func(e *Engine) { e.beforeStep = f }
}

// Engine runs scripts. It is safe to call Run concurrently.
type Engine struct {
	timeout       time.Duration
	roots         *x509.CertPool
	insecure      bool
	plaintextAuth bool
	vars          dsl.Vars
	dialer        Dialer
	observer      Observer
	beforeStep    func(context.Context, StepStarted) error
	lean          bool                   // WithLean
	sessions      tls.ClientSessionCache // WithTLSSessionCache
	connectTo     []ConnectTo            // WithConnectTo
}

// New builds an Engine.
func New(opts ...Option) *Engine {
	e := &Engine{timeout: 30 * time.Second, vars: dsl.EnvVars{}}
	for _, o := range opts {
		o(e)
	}
	if e.dialer == nil {
		e.dialer = &net.Dialer{}
	}
	if e.observer == nil {
		e.observer = ObserverFunc(func(Event) {})
	}
	return e
}
