package engine

import "testing"

func TestParseConnectTo(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want ConnectTo
		err  bool
	}{
		{in: "smtp.gmail.com:587:127.0.0.1:2525", want: ConnectTo{"smtp.gmail.com", "587", "127.0.0.1", "2525"}},
		{in: "::127.0.0.1:2525", want: ConnectTo{"", "", "127.0.0.1", "2525"}},
		{in: "smtp.gmail.com:587:[::1]:2525", want: ConnectTo{"smtp.gmail.com", "587", "::1", "2525"}},
		{in: "[::1]:25:localhost:", want: ConnectTo{"::1", "25", "localhost", ""}},
		{in: "smtp.gmail.com:587:127.0.0.1", err: true},
		{in: "smtp.gmail.com:587:::1:2525", err: true},
		{in: "a:99999:b:1", err: true},
		{in: "a:1:b:x", err: true},
		{in: "[::1:25:b:1", err: true},
	} {
		got, err := ParseConnectTo(tc.in)
		if (err != nil) != tc.err || err == nil && got != tc.want {
			t.Errorf("ParseConnectTo(%q) = %+v, %v; want %+v (error %v)", tc.in, got, err, tc.want, tc.err)
		}
		if err == nil {
			if back, _ := ParseConnectTo(got.String()); back != got {
				t.Errorf("%q: String() = %q does not parse back", tc.in, got.String())
			}
		}
	}
}

func TestRoute(t *testing.T) {
	rules := []ConnectTo{
		{Host: "smtp.gmail.com", Port: "587", ToHost: "127.0.0.1", ToPort: "2525"},
		{Host: "smtp.office365.com", ToHost: "::1"},
		{Port: "465", ToPort: "2465"},
	}
	for _, tc := range []struct{ host, port, want string }{
		{"smtp.gmail.com", "587", "127.0.0.1:2525"},
		{"SMTP.Gmail.com", "587", "127.0.0.1:2525"}, // DNS names ignore case
		{"smtp.gmail.com", "465", "smtp.gmail.com:2465"},
		{"smtp.gmail.com", "25", "smtp.gmail.com:25"},
		{"smtp.office365.com", "587", "[::1]:587"},
		{"mail.example.org", "465", "mail.example.org:2465"},
	} {
		if got := Route(rules, tc.host, tc.port); got != tc.want {
			t.Errorf("Route(%s, %s) = %s, want %s", tc.host, tc.port, got, tc.want)
		}
	}
}
