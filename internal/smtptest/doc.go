// Package smtptest gives tests real servers on loopback: Server is
// emersion/go-smtp with STARTTLS or implicit TLS, a certificate from a
// throwaway CA (PKI) and AUTH by every mechanism smtprun speaks, OAuth
// tokens included; Serve runs a hand-written server for misbehaviour no
// real server shows. Nothing here listens beyond 127.0.0.1, and every
// server stops when its test ends.
package smtptest
