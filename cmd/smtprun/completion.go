package main

import (
	"flag"
	"fmt"
	"slices"
	"strings"

	"github.com/smtprun/smtprun/oauth"
	"github.com/smtprun/smtprun/sandbox"
)

const completionUsage = `Usage:
  smtprun completion bash|zsh|fish

Prints a script that completes smtprun's commands, their flags, the
sandbox's profile and scenario names (--profile, --scenario), files for
the flags that take one, and .smtp scripts. Load it from the shell's
start-up file:

  bash  source <(smtprun completion bash)        in ~/.bashrc
  zsh   source <(smtprun completion zsh)         in ~/.zshrc, after compinit
  fish  smtprun completion fish > ~/.config/fish/completions/smtprun.fish

The script holds the names as this smtprun knows them: print it again
after an upgrade.

Example:
  smtprun completion bash

Exit codes: 0 printed; 1 usage error.
`

// runCompletion is `smtprun completion SHELL`.
func runCompletion(inv *invocation, args []string) int {
	if wantsHelp(args) {
		fmt.Fprint(inv.stdout, completionUsage)
		return exitOK
	}
	if len(args) != 1 {
		return inv.usageError("which shell? bash, zsh or fish")
	}
	switch args[0] {
	case "bash":
		fmt.Fprint(inv.stdout, bashCompletion())
	case "zsh":
		fmt.Fprint(inv.stdout, zshCompletion())
	case "fish":
		fmt.Fprint(inv.stdout, fishCompletion())
	default:
		return inv.usageError(fmt.Sprintf("no completion for %q: the shells are bash, zsh and fish", args[0]))
	}
	return exitOK
}

// fileFlags take a file or directory name as their value.
var fileFlags = []string{"variables-file", "ca", "ca-out", "report-junit", "report-tap", "report-json", "report-html", "save", "record", "junit", "json"}

// scriptCommands take .smtp scripts (or directories of them) as arguments.
var scriptCommands = []string{"run", "test", "check", "fmt", "load"}

// completionFlag is one flag of a command as a shell completes it.
type completionFlag struct {
	name  string // without dashes
	value bool   // takes a value (is not boolean)
}

// dashed is the flag as the help writes it: -q, --quiet.
func (f completionFlag) dashed() string {
	if len(f.name) == 1 {
		return "-" + f.name
	}
	return "--" + f.name
}

// completionFlags is the command's flags, read from its flag set in the
// table, with --help, which every command takes.
func completionFlags(c *command) []completionFlag {
	flags := []completionFlag{{name: "help"}}
	if c.flags == nil {
		return flags
	}
	c.flags().VisitAll(func(f *flag.Flag) {
		b, ok := f.Value.(interface{ IsBoolFlag() bool })
		flags = append(flags, completionFlag{f.Name, !ok || !b.IsBoolFlag()})
	})
	return flags
}

func profileNames() []string {
	var names []string
	for _, p := range sandbox.Profiles() {
		names = append(names, p.Name)
	}
	return names
}

func scenarioNames() []string {
	var names []string
	for _, s := range sandbox.Scenarios() {
		names = append(names, s.Name)
	}
	return names
}

// argumentWords is what a command's arguments may be, beyond files.
func argumentWords(c *command) []string {
	switch c.name {
	case "help":
		var names []string
		for _, t := range topics {
			names = append(names, t.name)
		}
		for _, c := range commands {
			if !slices.Contains(names, c.name) {
				names = append(names, c.name)
			}
		}
		return append(names, "--man")
	case "completion":
		return []string{"bash", "zsh", "fish"}
	case "token":
		return oauth.Names()
	}
	return nil
}

func dashedNames(flags []completionFlag, valued bool) string {
	var names []string
	for _, f := range flags {
		if !valued || f.value {
			names = append(names, f.dashed())
		}
	}
	return strings.Join(names, " ")
}

// bashCompletion is the bash script: one function, _smtprun, with the
// table's commands and flags written into it.
func bashCompletion() string {
	var b strings.Builder
	w := func(format string, a ...any) { fmt.Fprintf(&b, format+"\n", a...) }
	w("# bash completion for smtprun: source <(smtprun completion bash)")
	w("_smtprun() {")
	w(`	local cur="${COMP_WORDS[COMP_CWORD]}" prev="" cmd=run flags="" valued="" words="" scripts=""`)
	w(`	if ((COMP_CWORD > 0)); then prev="${COMP_WORDS[COMP_CWORD-1]}"; fi`)
	// --flag=value: bash splits the word at the "=".
	w(`	if [[ "$cur" == "=" ]]; then cur=""; prev="${COMP_WORDS[COMP_CWORD-1]}"; elif [[ "$prev" == "=" && COMP_CWORD -gt 1 ]]; then prev="${COMP_WORDS[COMP_CWORD-2]}"; fi`)
	w(`	if ((COMP_CWORD > 1)); then`)
	w(`		case "${COMP_WORDS[1]}" in`)
	w(`		%s) cmd="${COMP_WORDS[1]}" ;;`, strings.Join(commandNames(), "|"))
	w("		esac")
	w("	fi")
	w(`	case "$cmd" in`)
	for _, c := range commands {
		flags := completionFlags(c)
		scripts := ""
		if slices.Contains(scriptCommands, c.name) {
			scripts = "1"
		}
		w(`	%s) flags=%s valued=%s words=%s scripts=%s ;;`, c.name, shQuote(dashedNames(flags, false)), shQuote(dashedNames(flags, true)),
			shQuote(strings.Join(argumentWords(c), " ")), shQuote(scripts))
	}
	w("	esac")
	w(`	case "$prev" in`)
	w(`	--profile|-profile) COMPREPLY=($(compgen -W %s -- "$cur")); return ;;`, shQuote(strings.Join(profileNames(), " ")))
	w(`	--scenario|-scenario) COMPREPLY=($(compgen -W %s -- "$cur")); return ;;`, shQuote(strings.Join(scenarioNames(), " ")))
	var files []string
	for _, f := range fileFlags {
		files = append(files, "--"+f, "-"+f)
	}
	w(`	%s) COMPREPLY=($(compgen -f -- "$cur")); return ;;`, strings.Join(files, "|"))
	w("	esac")
	w(`	if [[ " $valued " == *" $prev "* ]]; then COMPREPLY=(); return; fi`)
	w(`	if [[ "$cur" == -* ]]; then COMPREPLY=($(compgen -W "$flags" -- "$cur")); return; fi`)
	w("	COMPREPLY=()")
	w(`	if ((COMP_CWORD == 1)); then COMPREPLY=($(compgen -W %s -- "$cur")); fi`, shQuote(strings.Join(commandNames(), " ")))
	w(`	if [[ -n "$words" ]]; then COMPREPLY+=($(compgen -W "$words" -- "$cur")); return; fi`)
	w(`	if [[ -n "$scripts" ]]; then COMPREPLY+=($(compgen -f -X '!*.smtp' -- "$cur") $(compgen -d -- "$cur")); fi`)
	w("}")
	w("complete -o filenames -F _smtprun smtprun")
	return b.String()
}

// zshCompletion runs the bash function through zsh's bashcompinit, which
// gives it compgen and complete: one function to keep right, not two.
func zshCompletion() string {
	return "#compdef smtprun\n# zsh completion for smtprun: source <(smtprun completion zsh), after compinit\n" +
		"autoload -U +X bashcompinit && bashcompinit\n" + bashCompletion()
}

// fishCompletion is fish's complete commands: a condition per command,
// its flags with -r (takes a value) or -F (a file), and .smtp scripts.
func fishCompletion() string {
	var b strings.Builder
	w := func(format string, a ...any) { fmt.Fprintf(&b, format+"\n", a...) }
	names := strings.Join(commandNames(), " ")
	w("# fish completion for smtprun: smtprun completion fish > ~/.config/fish/completions/smtprun.fish")
	w("complete -c smtprun -f")
	for _, c := range commands {
		w("complete -c smtprun -n '__fish_use_subcommand' -a %s -d %s", c.name, fishQuote(c.summary))
	}
	for _, c := range commands {
		cond := "__fish_seen_subcommand_from " + c.name
		if c.name == "run" {
			// A run is also smtprun SCRIPT, with no subcommand.
			cond = "not __fish_seen_subcommand_from " + names + "; or __fish_seen_subcommand_from run"
		}
		for _, f := range completionFlags(c) {
			opt := "-l " + f.name
			if len(f.name) == 1 {
				opt = "-s " + f.name
			}
			switch {
			case f.name == "profile":
				opt += " -x -a " + fishQuote(strings.Join(profileNames(), " "))
			case f.name == "scenario":
				opt += " -x -a " + fishQuote(strings.Join(scenarioNames(), " "))
			case slices.Contains(fileFlags, f.name):
				opt += " -r -F"
			case f.value:
				opt += " -x"
			}
			w("complete -c smtprun -n %s %s", fishQuote(cond), opt)
		}
		if words := argumentWords(c); len(words) > 0 {
			w("complete -c smtprun -n %s -a %s", fishQuote(cond), fishQuote(strings.Join(words, " ")))
		}
		if slices.Contains(scriptCommands, c.name) {
			// __fish_complete_suffix offers every file, the suffix's
			// first: keep the scripts and the directories.
			w(`complete -c smtprun -n %s -a '(__fish_complete_path (commandline -ct) | string match -r -- "^.*(?:\.smtp|/)(?:\t.*)?\$")'`, fishQuote(cond))
		}
	}
	return b.String()
}

// shQuote quotes s for a POSIX shell.
func shQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func fishQuote(s string) string {
	return "'" + strings.ReplaceAll(strings.ReplaceAll(s, `\`, `\\`), "'", `\'`) + "'"
}
