// Package fault holds fault plans: deterministic instructions to an
// emulated server to fail a chosen command with a chosen reply, such as
// "fail the third RCPT with 550 5.1.1" or "answer every MAIL from
// bob@example.com with 451 and hang up". Plans are parsed from a small
// text form (Parse; the syntax is in docs/faults.md) and held in Plans,
// which a running server consults and a user may change at run time.
//
// Nothing here is random: the same plans and the same conversation give
// the same replies every time.
package fault
