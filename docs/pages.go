// Package docs holds smtprun's documentation pages, the Markdown files of
// this directory, embedded so that `smtprun help TOPIC` and the man page
// print the very text the pages hold.
package docs

import "embed"

// Pages is every *.md file of the directory, by its base name.
//
//go:embed *.md
var Pages embed.FS
