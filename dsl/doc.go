// Package dsl is the .smtp scripting language: its lexer and participle
// grammar (grammar.go, an internal detail), smtprun's own syntax tree
// (ast.go, with its own Pos) and Walk over every node of it (walk.go),
// the limits on what a script may ask for (limits.go), the check that
// turns a script into an immutable Program,
// variable interpolation, the printer (Format) and the Hurl-style
// diagnostics every user-facing error is rendered with.
//
// It is pure: nothing here touches the network, so a formatter, a linter
// or `smtprun check` needs only this package. The usual pipeline is
//
//	script, err := dsl.Parse("scripts/utep.smtp", src)
//	prog, err := dsl.Check(script)
//	// then engine.New(...).Run(ctx, prog), from any number of goroutines
package dsl
