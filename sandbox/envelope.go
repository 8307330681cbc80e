package sandbox

import (
	"encoding/json"
	"time"

	"github.com/smtprun/smtprun/internal/safefile"
)

// Envelope is what the SMTP conversation said about a saved message that
// the message itself does not: who sent it to whom, as whom, over what.
// With Options.SaveDir, each NAME.eml has NAME.envelope.json beside it,
// so the .eml stays byte for byte what the client sent (RFC 5321 4.4:
// the envelope is not the header; a delivering server would add it as
// Return-Path and Delivered-To, which a practice server does not).
type Envelope struct {
	Message  string    `json:"message"`   // the .eml file's name
	MailFrom string    `json:"mail_from"` // MAIL FROM's address, "" for <>
	RcptTo   []string  `json:"rcpt_to"`
	AuthUser string    `json:"auth_user,omitempty"` // who logged in, if anyone
	TLS      string    `json:"tls,omitempty"`       // "TLS 1.3, TLS_AES_128_GCM_SHA256"; "" in plaintext
	Helo     string    `json:"helo,omitempty"`
	Client   string    `json:"client"` // the client's address
	Profile  string    `json:"profile"`
	Host     string    `json:"host"` // the name the server answered as
	QueueID  string    `json:"queue_id"`
	Size     int64     `json:"size"`
	Received time.Time `json:"received"`
}

func (ss *session) envelope(size int64) *Envelope {
	return &Envelope{
		MailFrom: ss.from,
		RcptTo:   append([]string{}, ss.rcpts...),
		AuthUser: ss.authUser,
		TLS:      ss.tlsInfo,
		Helo:     ss.helo,
		Client:   ss.remote,
		Profile:  ss.p.Name,
		Host:     ss.host,
		QueueID:  ss.msgVars["queue_id"],
		Size:     size,
		Received: ss.sb.clock().UTC(),
	}
}

// writeEnvelope writes the side file whole or not at all, 0600, never
// through a link.
func writeEnvelope(path string, env *Envelope) error {
	data, err := json.MarshalIndent(env, "", "  ")
	if err != nil {
		return err
	}
	return safefile.WriteFile(path, append(data, '\n'), 0o600)
}
