package engine

import "github.com/smtprun/smtprun/dsl"

// The few places the engine reads the shape of a step, besides exec's
// dispatch, kept together so a change of the AST touches one file.

// stepKind names a step's kind for events and results.
func stepKind(st *dsl.Step) string {
	switch {
	case st.Connect != nil:
		return "connect"
	case st.Send != nil:
		return "send"
	case st.Expect != nil:
		return "expect"
	case st.StartTLS != nil:
		return "starttls"
	case st.Auth != nil:
		return "auth"
	case st.Message != nil:
		return "message"
	case st.Quit != nil:
		return "quit"
	case st.Raw != nil:
		return "raw"
	case st.Note != nil:
		return "note"
	}
	return "unknown"
}

// authOf is a step's auth, or nil.
func authOf(st *dsl.Step) *dsl.Auth { return st.Auth }
