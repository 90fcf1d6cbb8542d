package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/geocommuns/geocommuns/auth"
	"github.com/geocommuns/geocommuns/auth/oauth"
	"github.com/geocommuns/geocommuns/storage"
)

// parseInterspersed parses flags given before, between and after the
// positional arguments (`user add NAME --role admin`), which the flag
// package alone stops at, then reads the environment as parseFlags does.
func parseInterspersed(fs *flag.FlagSet, e *env, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, usageError{msg: err.Error(), shown: true}
		}
		if fs.NArg() == 0 {
			break
		}
		positional = append(positional, fs.Arg(0))
		args = fs.Args()[1:]
	}
	return positional, parseFlags(fs, e, nil)
}

// listFlag is a flag that may be given several times.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, " ") }
func (l *listFlag) Set(v string) error {
	*l = append(*l, v)
	return nil
}

func runUser(ctx context.Context, e *env, args []string) error {
	if len(args) > 0 && args[0] == "delete" {
		return runUserDelete(ctx, e, args[1:]) // redact.go
	}
	var (
		sf            storeFlags
		role          string
		trusted       bool
		password      string
		passwordStdin bool
	)
	fs := newFlagSet(e, "user", " add NAME",
		"Adds an account NAME and prints its first API token on stdout (shown once: only a hash is\n"+
			"stored). The token goes in an \"Authorization: Bearer TOKEN\" header; with a password the\n"+
			"account also signs in with HTTP Basic and on the OAuth 2 sign-in page.")
	sf.register(fs)
	fs.StringVar(&role, "role", "contributor", "the account's `role`: contributor, reviewer or admin")
	fs.BoolVar(&trusted, "trusted", false, "mark the account trusted: its changesets merge as soon as they are submitted, without a reviewer")
	fs.StringVar(&password, "password", "", "the account's `password` (visible to other local users in the process list: prefer --password-stdin)")
	fs.BoolVar(&passwordStdin, "password-stdin", false, "read the password from the first line of standard input")
	positional, err := parseInterspersed(fs, e, args)
	if err != nil {
		return err
	}
	if len(positional) != 2 || positional[0] != "add" {
		return usageError{msg: "usage: geocommuns user add NAME [--role ROLE] [--trusted] [--password-stdin | --password PW]"}
	}
	if password != "" && passwordStdin {
		return usageError{msg: "give --password or --password-stdin, not both"}
	}
	r, ok := auth.ParseRole(role)
	if !ok {
		return usageError{msg: fmt.Sprintf("unknown role %q: contributor, reviewer or admin", role)}
	}
	if passwordStdin {
		if password, err = readPasswordLine(os.Stdin); err != nil {
			return err
		}
	}

	store, err := sf.open(ctx)
	if err != nil {
		return err
	}
	defer store.Close()
	acc, token, err := auth.AddUser(ctx, store, auth.NewUser{Name: positional[1], Role: r, Trusted: trusted, Password: password})
	if errors.Is(err, storage.ErrNameTaken) {
		return fmt.Errorf("a user named %q exists already", positional[1])
	}
	if err != nil {
		return err
	}
	stored, err := store.APIToken(ctx, auth.HashAPIToken(token))
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stderr, "added user %s (id %d, %s%s%s) to the %s; API token %d:\n",
		acc.DisplayName, acc.ID, acc.Role, map[bool]string{true: ", trusted"}[acc.Trusted],
		map[bool]string{true: ", with a password"}[acc.PasswordHash != ""], sf.describe(), stored.ID)
	fmt.Fprintln(e.stdout, token)
	return nil
}

// readPasswordLine reads the first line of r, without its line ending.
func readPasswordLine(r io.Reader) (string, error) {
	line, err := bufio.NewReader(r).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read the password from standard input: %w", err)
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return "", usageError{msg: "--password-stdin read an empty password"}
	}
	return line, nil
}

func runToken(ctx context.Context, e *env, args []string) error {
	var (
		sf      storeFlags
		user    string
		expires time.Duration
	)
	fs := newFlagSet(e, "token", " create --user NAME [--expires DURATION] | revoke TOKEN-or-ID",
		"create prints a new API token of the user NAME on stdout (shown once: only a hash is stored);\n"+
			"revoke makes a token, given itself or by its id, fail from then on.")
	sf.register(fs)
	fs.StringVar(&user, "user", "", "the `name` of the user a new token is for")
	fs.DurationVar(&expires, "expires", 0, "how long a new token works (a Go `duration`: 720h, 90m), for a script or a guest; 0 (the default) until revoked")
	positional, err := parseInterspersed(fs, e, args)
	if err != nil {
		return err
	}
	switch {
	case len(positional) == 1 && positional[0] == "create":
		if user == "" {
			return usageError{msg: "token create needs --user NAME"}
		}
		if expires < 0 {
			return usageError{msg: "--expires cannot be negative (0: until revoked)"}
		}
	case expires != 0:
		return usageError{msg: "--expires is for token create"}
	case len(positional) == 2 && positional[0] == "revoke":
	default:
		return usageError{msg: "usage: geocommuns token create --user NAME | geocommuns token revoke TOKEN-or-ID"}
	}

	store, err := sf.open(ctx)
	if err != nil {
		return err
	}
	defer store.Close()
	if positional[0] == "create" {
		acc, err := store.AccountByName(ctx, user)
		if errors.Is(err, storage.ErrNotFound) {
			return fmt.Errorf("no user is named %q", user)
		}
		if err != nil {
			return err
		}
		var until time.Time
		if expires > 0 {
			until = time.Now().Add(expires)
		}
		token, stored, err := auth.CreateExpiringAPIToken(ctx, store, acc.ID, until)
		if err != nil {
			return err
		}
		expiry := ""
		if !stored.ExpiresAt.IsZero() {
			expiry = ", expires at " + stored.ExpiresAt.Format("2006-01-02 15:04:05 UTC")
		}
		fmt.Fprintf(e.stderr, "API token %d of user %s (id %d%s):\n", stored.ID, acc.DisplayName, acc.ID, expiry)
		fmt.Fprintln(e.stdout, token)
		return nil
	}
	return revokeToken(ctx, e, store, positional[1])
}

func revokeToken(ctx context.Context, e *env, store storage.Store, which string) error {
	id, err := strconv.ParseInt(which, 10, 64)
	if err != nil {
		t, err := store.APIToken(ctx, auth.HashAPIToken(which))
		if errors.Is(err, storage.ErrNotFound) {
			return errors.New("no such API token")
		}
		if err != nil {
			return err
		}
		id = t.ID
	}
	t, err := store.RevokeAPIToken(ctx, id)
	if errors.Is(err, storage.ErrNotFound) {
		return fmt.Errorf("no API token has id %d", id)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stderr, "revoked API token %d of user %d (revoked at %s)\n", t.ID, t.UserID, t.RevokedAt.Format("2006-01-02 15:04:05 UTC"))
	return nil
}

func runOAuthApp(ctx context.Context, e *env, args []string) error {
	var (
		sf           storeFlags
		redirectURIs listFlag
		scopes       string
		confidential bool
	)
	fs := newFlagSet(e, "oauth-app", " add NAME --redirect-uri URI",
		"Registers an OAuth 2 client application and prints its client_id (and, for a confidential one,\n"+
			"its client_secret, shown once) on stdout. Public applications (iD, JOSM, anything running on\n"+
			"the user's machine) must use PKCE; redirect URIs are matched exactly.")
	sf.register(fs)
	fs.Var(&redirectURIs, "redirect-uri", "a redirect `URI` of the application; repeat for several")
	fs.StringVar(&scopes, "scopes", strings.Join(auth.AllScopes, " "), "the `scopes` the application may ask for, space-separated")
	fs.BoolVar(&confidential, "confidential", false, "the application keeps a secret (runs on a server)")
	positional, err := parseInterspersed(fs, e, args)
	if err != nil {
		return err
	}
	if len(positional) != 2 || positional[0] != "add" {
		return usageError{msg: "usage: geocommuns oauth-app add NAME --redirect-uri URI [--confidential] [--scopes LIST]"}
	}
	if len(redirectURIs) == 0 {
		return usageError{msg: "oauth-app add needs --redirect-uri URI"}
	}

	store, err := sf.open(ctx)
	if err != nil {
		return err
	}
	defer store.Close()
	c, secret, err := oauth.RegisterClient(ctx, store, oauth.NewClient{
		Name: positional[1], RedirectURIs: redirectURIs, Scopes: strings.Fields(scopes), Confidential: confidential,
	})
	if err != nil {
		return err
	}
	kind := "public (PKCE required)"
	if c.Confidential {
		kind = "confidential"
	}
	fmt.Fprintf(e.stderr, "registered %s application %q, scopes %s\n", kind, c.Name, strings.Join(c.Scopes, " "))
	fmt.Fprintf(e.stdout, "client_id=%s\n", c.ID)
	if secret != "" {
		fmt.Fprintf(e.stdout, "client_secret=%s\n", secret)
	}
	return nil
}
