// Package dsl is the .smtp scripting language: its lexer and participle
// grammar, the AST, static validation, variable interpolation and the
// Hurl-style diagnostics every user-facing error is rendered with.
//
// It is pure: nothing here touches the network, so a formatter, a linter
// or `smtprun check` needs only this package. The usual pipeline is
//
//	script, err := dsl.Parse("scripts/utep.smtp", src)
//	err = dsl.Validate(script)
//	// then engine.New(...).Run(ctx, script)
package dsl
