package load

import (
	"fmt"
	"net"
	"runtime"

	"github.com/smtprun/smtprun/dsl"
)

// Threads is how many CPU threads a load runs its conversations on, and
// why: chosen from the work, so that nobody has to know to pass --procs.
type Threads struct {
	N, CPUs int
	Why     string
}

func (t Threads) String() string {
	return fmt.Sprintf("%d of %d CPUs (%s)", t.N, t.CPUs, t.Why)
}

// ChooseThreads decides from the script where its conversations go.
//
// A server on this machine needs CPU of its own: measured on two cores
// against smtp-sink, a new connection per message ran 0.80x smtp-source
// on both CPUs and 1.09x on one, because Go spreading the conversations
// over both threads costs more in hand-offs than it wins while the sink
// competes for the same cores. So when every connect goes to an address
// of this machine, half the CPUs (at least one) are left to the server.
// A server elsewhere, or the sandbox in this process (whose sessions are
// goroutines of the same scheduler), gets every CPU. More threads than
// conversations at once never help.
//
// route maps a script's host and port to where the connection really goes
// (--connect-to); nil leaves them as written.
func ChooseThreads(prog *dsl.Program, vars dsl.Vars, route func(host, port string) string, inProcess bool, connections int) Threads {
	cpus := runtime.NumCPU()
	t := Threads{N: cpus, CPUs: cpus}
	switch {
	case inProcess:
		t.Why = "the sandbox runs in this process"
	case allLocal(prog, vars, route):
		t.N = max(1, cpus/2)
		t.Why = "the server is on this machine and needs the rest"
	default:
		t.Why = "the server is on another machine"
	}
	if connections > 0 && t.N > connections {
		t.N = connections
		t.Why += fmt.Sprintf("; no more than the %d conversations at once", connections)
	}
	return t
}

// allLocal reports whether every connect of the script goes to an address
// of this machine; a target it cannot tell (a variable with no value, a
// name that is not localhost) counts as remote, the default it had before.
func allLocal(prog *dsl.Program, vars dsl.Vars, route func(host, port string) string) bool {
	local, any := true, false
	dsl.Walk(prog.Script(), func(n dsl.Node) bool {
		c, ok := n.(*dsl.Connect)
		if !ok {
			return true
		}
		any = true
		addr, err := c.Address.Expand(vars)
		if err != nil {
			local = false
			return true
		}
		host, port, err := net.SplitHostPort(addr)
		if err != nil {
			local = false
			return true
		}
		if route != nil {
			if host, _, err = net.SplitHostPort(route(host, port)); err != nil {
				local = false
				return true
			}
		}
		if !isThisMachine(host) {
			local = false
		}
		return true
	})
	return any && local
}

func isThisMachine(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	if ip == nil {
		return false
	}
	if ip.IsLoopback() || ip.IsUnspecified() {
		return true
	}
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return false
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.Equal(ip) {
			return true
		}
	}
	return false
}
