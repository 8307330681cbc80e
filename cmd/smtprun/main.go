// Command smtprun runs scripted SMTP conversations and shows every line
// that crosses the wire. See README.md, or run `smtprun --help`.
package main

import "os"

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
