package engine

import (
	"fmt"
	"net"
	"strings"
)

// ConnectTo is one rule of curl's --connect-to HOST:PORT:HOST2:PORT2:
// wherever a script connects to HOST:PORT, the engine dials HOST2:PORT2
// instead, and keeps the script's host name for SNI, certificate
// verification and the transcript. An empty Host or Port matches any; an
// empty ToHost or ToPort keeps the script's, as curl does.
type ConnectTo struct {
	Host, Port, ToHost, ToPort string
}

// String writes the rule back in curl's form.
func (r ConnectTo) String() string {
	return bracket(r.Host) + ":" + r.Port + ":" + bracket(r.ToHost) + ":" + r.ToPort
}

// ParseConnectTo reads HOST:PORT:HOST2:PORT2; an IPv6 address is written
// in brackets ([::1]:2525 as HOST2:PORT2).
func ParseConnectTo(s string) (ConnectTo, error) {
	var f []string
	rest := s
	for len(f) < 3 {
		field, tail, ok := cutField(rest)
		if !ok {
			return ConnectTo{}, fmt.Errorf("--connect-to %q: want HOST:PORT:HOST2:PORT2 (an empty part matches any, or keeps the script's), as in smtp.gmail.com:587:127.0.0.1:2525", s)
		}
		f, rest = append(f, field), tail
	}
	f = append(f, rest)
	for _, port := range []string{f[1], f[3]} {
		if port != "" && !isPort(port) {
			return ConnectTo{}, fmt.Errorf("--connect-to %q: port %q is not a number from 1 to 65535", s, port)
		}
	}
	if strings.ContainsAny(f[3], "[]:") {
		return ConnectTo{}, fmt.Errorf("--connect-to %q: too many parts; write an IPv6 address in brackets, as [::1]", s)
	}
	return ConnectTo{Host: f[0], Port: f[1], ToHost: f[2], ToPort: f[3]}, nil
}

// cutField takes one field up to the next colon; a field in brackets is an
// IPv6 address, and its colons do not count.
func cutField(s string) (field, rest string, ok bool) {
	if strings.HasPrefix(s, "[") {
		end := strings.IndexByte(s, ']')
		if end < 0 || end+1 >= len(s) || s[end+1] != ':' {
			return "", "", false
		}
		return s[1:end], s[end+2:], true
	}
	field, rest, ok = strings.Cut(s, ":")
	if strings.ContainsAny(field, "[]") {
		return "", "", false
	}
	return field, rest, ok
}

func isPort(s string) bool {
	n := 0
	for _, c := range s {
		if c < '0' || c > '9' || n > 65535 {
			return false
		}
		n = n*10 + int(c-'0')
	}
	return n >= 1 && n <= 65535
}

func bracket(host string) string {
	if strings.Contains(host, ":") {
		return "[" + host + "]"
	}
	return host
}

// WithConnectTo adds --connect-to rules; the first that matches a connect
// decides where it goes.
func WithConnectTo(rules ...ConnectTo) Option {
	return func(e *Engine) { e.connectTo = append(e.connectTo, rules...) }
}

// Route is where a connect to host:port really goes, by the first rule
// that matches (host names compare without regard to case, as DNS does);
// without one, host:port itself.
func Route(rules []ConnectTo, host, port string) string {
	for _, r := range rules {
		if (r.Host == "" || strings.EqualFold(r.Host, host)) && (r.Port == "" || r.Port == port) {
			h, p := r.ToHost, r.ToPort
			if h == "" {
				h = host
			}
			if p == "" {
				p = port
			}
			return net.JoinHostPort(h, p)
		}
	}
	return net.JoinHostPort(host, port)
}
