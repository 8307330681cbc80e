package load

import (
	"runtime"
	"strings"
	"testing"

	"github.com/smtprun/smtprun/dsl"
)

func TestChooseThreads(t *testing.T) {
	cpus := runtime.NumCPU()
	half := max(1, cpus/2)
	script := func(addrs ...string) *dsl.Program {
		t.Helper()
		var b strings.Builder
		for _, a := range addrs {
			b.WriteString("connect \"" + a + "\"\nexpect 220\nquit\n")
		}
		s, err := dsl.Parse("t.smtp", []byte(b.String()))
		if err != nil {
			t.Fatal(err)
		}
		p, err := dsl.Check(s)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	toLoopback := func(host, port string) string { return "127.0.0.1:" + port }
	for _, c := range []struct {
		name      string
		prog      *dsl.Program
		vars      dsl.MapVars
		route     func(string, string) string
		inProcess bool
		conns     int
		want      int
		why       string
	}{
		{"loopback v4", script("127.0.0.1:2525"), nil, nil, false, 20, half, "on this machine"},
		{"loopback v6", script("[::1]:2525"), nil, nil, false, 20, half, "on this machine"},
		{"localhost", script("localhost:25"), nil, nil, false, 20, half, "on this machine"},
		{"from a variable", script("${SINK}"), dsl.MapVars{"SINK": "127.0.0.1:2525"}, nil, false, 20, half, "on this machine"},
		{"remote", script("mail.example.org:587"), nil, nil, false, 20, cpus, "another machine"},
		{"unset variable counts as remote", script("${SINK}"), dsl.MapVars{}, nil, false, 20, cpus, "another machine"},
		{"one of two remote", script("127.0.0.1:25", "mail.example.org:25"), nil, nil, false, 20, cpus, "another machine"},
		{"--connect-to to loopback", script("mail.example.org:587"), nil, toLoopback, false, 20, half, "on this machine"},
		{"sandbox", script("smtp.gmail.com:587"), nil, nil, true, 20, cpus, "sandbox"},
		{"capped by connections", script("mail.example.org:587"), nil, nil, false, 1, 1, "another machine"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var vars dsl.Vars = dsl.MapVars{}
			if c.vars != nil {
				vars = c.vars
			}
			got := ChooseThreads(c.prog, vars, c.route, c.inProcess, c.conns)
			if got.N != c.want || got.CPUs != cpus || !strings.Contains(got.Why, c.why) {
				t.Fatalf("ChooseThreads = %+v, want %d threads of %d because %q", got, c.want, cpus, c.why)
			}
		})
	}
}
