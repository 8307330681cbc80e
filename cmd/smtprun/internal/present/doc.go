// Package present is what smtprun's commands show a person: the
// transcript of a run (engine events as the conversation), the --explain
// annotations, the help and hints for an error, the Hurl-style failure
// report, test mode's status and summary lines, the log of `smtprun
// serve` with its coach's diagnoses, and the colour decision behind them
// all. run, test and serve render through it, so a new output format or a
// new subcommand reuses one renderer instead of copying it.
//
// It sits under cmd/smtprun/internal so that only the command imports
// it: it is part of cmd in the dependency rule cmd -> {engine, sandbox,
// explain} -> dsl, internal. It reads engine events, sandbox events and
// the explain knowledge base, and exit codes stay with the command.
package present
