package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"os/signal"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/tokenkeeper/tokenkeeper/accesstoken"
)

func main() { os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)) }

// Exit statuses (see the package documentation).
const (
	exitOK    = 0
	exitFail  = 1 // the operation failed: bad token, bad signature, fetch failed
	exitUsage = 2 // bad usage
)

// cmdEnv is what a subcommand may touch of the outside world; tests replace
// every part of it.
type cmdEnv struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	Getenv         func(string) string // APP_ID, APP_CERTIFICATE, …
	Now            func() time.Time
}

// command is one subcommand. Files register theirs from init().
type command struct {
	name    string
	summary string // one line for the command list
	usage   string // synopsis after "tokenctl NAME", e.g. "[--json] TOKEN"
	run     func(ctx context.Context, args []string, env *cmdEnv) error
}

var commands = map[string]*command{}

// register adds a subcommand; it is called from init() in each command file.
func register(c *command) {
	if c.name == "" || c.run == nil || commands[c.name] != nil {
		panic("tokenctl: bad or duplicate command registration: " + c.name)
	}
	commands[c.name] = c
}

// usageError is a bad invocation: exit status 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

// usagef returns a usage error (exit status 2).
func usagef(format string, a ...any) error { return &usageError{msg: fmt.Sprintf(format, a...)} }

// run is main without the process: it returns the exit status.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) (code int) {
	env := &cmdEnv{Stdin: stdin, Stdout: stdout, Stderr: stderr, Getenv: os.Getenv, Now: time.Now}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	return runEnv(ctx, args, env)
}

// runEnv dispatches to a subcommand and turns its error into one stderr
// line and an exit status. It never lets a panic escape. Nil fields of env
// default to an empty stdin, discarded output, os.Getenv and time.Now.
func runEnv(ctx context.Context, args []string, env *cmdEnv) (code int) {
	env = withDefaults(env)
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintf(env.Stderr, "tokenctl: internal error: %s\n", oneLine(fmt.Sprint(r)))
			code = exitFail
		}
	}()
	if len(args) == 0 {
		printUsage(env.Stderr)
		return exitUsage
	}
	name := args[0]
	switch name {
	case "help", "-h", "-help", "--help":
		if len(args) > 1 {
			c, ok := commands[args[1]]
			if !ok {
				return fail(env, usagef("unknown command %q (run 'tokenctl help')", args[1]))
			}
			// Commands parse their flags first, so -h returns at once.
			return runCommand(ctx, c, []string{"-h"}, env)
		}
		printUsage(env.Stdout)
		return exitOK
	}
	c, ok := commands[name]
	if !ok {
		return fail(env, usagef("unknown command %q (run 'tokenctl help')", name))
	}
	return runCommand(ctx, c, args[1:], env)
}

func withDefaults(env *cmdEnv) *cmdEnv {
	e := *env
	if e.Stdin == nil {
		e.Stdin = strings.NewReader("")
	}
	if e.Stdout == nil {
		e.Stdout = io.Discard
	}
	if e.Stderr == nil {
		e.Stderr = io.Discard
	}
	if e.Getenv == nil {
		e.Getenv = os.Getenv
	}
	if e.Now == nil {
		e.Now = time.Now
	}
	return &e
}

func runCommand(ctx context.Context, c *command, args []string, env *cmdEnv) int {
	err := c.run(ctx, args, env)
	var help helpRequest
	switch {
	case errors.As(err, &help):
		printCommandHelp(env.Stdout, c, help.fs)
		return exitOK
	case errors.Is(err, flag.ErrHelp): // a command that parsed flags by itself
		printCommandHelp(env.Stdout, c, nil)
		return exitOK
	}
	return fail(env, err)
}

// fail prints err as one "tokenctl: …" line and returns its exit status.
func fail(env *cmdEnv, err error) int {
	if err == nil {
		return exitOK
	}
	fmt.Fprintf(env.Stderr, "tokenctl: %s\n", oneLine(err.Error()))
	var ue *usageError
	if errors.As(err, &ue) {
		return exitUsage
	}
	return exitFail
}

// oneLine keeps an error message on a single line.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

func printUsage(w io.Writer) {
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	fmt.Fprint(w, "Usage: tokenctl COMMAND [flags] [args]\n\nCommands:\n")
	for _, n := range names {
		fmt.Fprintf(w, "  %-10s %s\n", n, commands[n].summary)
	}
	fmt.Fprint(w, "\nA TOKEN argument of \"-\" reads the token from standard input.\n"+
		"Run 'tokenctl help COMMAND' for a command's flags.\n")
}

// helpRequest is returned by parseFlags for -h/--help; run prints the
// command's help with its flags and exits 0.
type helpRequest struct{ fs *flag.FlagSet }

func (helpRequest) Error() string { return "help requested" }

func printCommandHelp(w io.Writer, c *command, fs *flag.FlagSet) {
	fmt.Fprintf(w, "Usage: tokenctl %s %s\n\n%s\n", c.name, c.usage, c.summary)
	if fs == nil {
		return
	}
	fmt.Fprint(w, "\nFlags:\n")
	fs.SetOutput(w)
	fs.PrintDefaults()
	fs.SetOutput(io.Discard)
}

// newFlagSet returns a FlagSet for a subcommand that reports errors only
// through its return value (never printing), so run can print one line.
func newFlagSet(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return fs
}

// parseFlags parses args with fs and returns the positional arguments.
// Flags may come before or after positional arguments ("decode TOKEN
// --json"), as --flag or -flag; "--" ends flag parsing. Flag errors become
// usage errors, with the value of any secret flag (--cert) removed; -h and
// --help return a helpRequest. Every command must call it before doing
// anything else, because 'tokenctl help NAME' runs the command with -h.
func parseFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	rest := args
	for {
		if err := fs.Parse(rest); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, helpRequest{fs}
			}
			return nil, usagef("%s: %s", fs.Name(), redactSecrets(err.Error(), args))
		}
		remaining := fs.Args()
		if len(remaining) == 0 {
			return pos, nil
		}
		if n := len(rest) - len(remaining); n > 0 && rest[n-1] == "--" {
			return append(pos, remaining...), nil
		}
		pos = append(pos, remaining[0])
		rest = remaining[1:]
	}
}

// secretFlags are flags whose values must never appear in output.
var secretFlags = []string{"cert"}

// redactSecrets removes the values of secret flags in args from msg.
func redactSecrets(msg string, args []string) string {
	for i, a := range args {
		name, value, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		for _, s := range secretFlags {
			if name != s {
				continue
			}
			if !hasValue && i+1 < len(args) {
				value = args[i+1]
			}
			if value != "" {
				msg = strings.ReplaceAll(msg, value, "[redacted]")
			}
		}
	}
	return msg
}

// maxStdinToken caps how much of standard input a "-" TOKEN reads.
const maxStdinToken = 1 << 20

// readTokenArg returns the token named by a TOKEN argument: the argument
// itself, or standard input (at most 1 MiB, whitespace trimmed) for "-".
func readTokenArg(arg string, env *cmdEnv) (string, error) {
	if arg != "-" {
		return strings.TrimSpace(arg), nil
	}
	data, err := io.ReadAll(io.LimitReader(env.Stdin, maxStdinToken+1))
	if err != nil {
		return "", fmt.Errorf("reading the token from standard input: %w", err)
	}
	if len(data) > maxStdinToken {
		return "", fmt.Errorf("token on standard input is larger than %d bytes", maxStdinToken)
	}
	tok := strings.TrimSpace(string(data))
	if tok == "" {
		return "", errors.New("no token on standard input")
	}
	return tok, nil
}

// parseTokenArg reads the token named by a TOKEN argument (see
// readTokenArg) and decodes it without the certificate.
func parseTokenArg(arg string, env *cmdEnv) (*accesstoken.Token, error) {
	raw, err := readTokenArg(arg, env)
	if err != nil {
		return nil, err
	}
	return accesstoken.Parse(raw)
}

// writeJSON writes v as one line of JSON (HTML characters not escaped).
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// setFlags returns the names of the flags given on the command line.
func setFlags(fs *flag.FlagSet) map[string]bool {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	return set
}

// parseUint32 parses a decimal uint32 with a short, value-free message.
func parseUint32(s string) (uint32, error) {
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil {
		return 0, fmt.Errorf("want a whole number from 0 to %d", uint32(math.MaxUint32))
	}
	return uint32(n), nil
}

// uint32Flag is a flag.Value holding a decimal uint32.
type uint32Flag uint32

func (f *uint32Flag) String() string { return strconv.FormatUint(uint64(*f), 10) }

func (f *uint32Flag) Set(s string) error {
	n, err := parseUint32(s)
	*f = uint32Flag(n)
	return err
}

// isHex32 reports whether s is 32 hexadecimal characters, the form of app
// IDs and certificates.
func isHex32(s string) bool {
	if len(s) != 32 {
		return false
	}
	for _, c := range s {
		if !strings.ContainsRune("0123456789abcdefABCDEF", c) {
			return false
		}
	}
	return true
}

// checkCertFlag validates a certificate flag without ever echoing it.
func checkCertFlag(cmd, cert string) error {
	switch {
	case cert == "":
		return usagef("%s: --cert (or APP_CERTIFICATE) is required", cmd)
	case !isHex32(cert):
		return usagef("%s: --cert must be 32 hexadecimal characters", cmd)
	}
	return nil
}
