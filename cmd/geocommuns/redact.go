package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/geocommuns/geocommuns/storage"
)

// runRedact hides a historical version from every read and feed (a legal
// takedown), or shows it again with --undo; the audit log names the
// administrator and the reason.
func runRedact(ctx context.Context, e *env, args []string) error {
	var (
		sf          storeFlags
		by, reason  string
		redactionID int64
		undo        bool
	)
	fs := newFlagSet(e, "redact", " TYPE/ID/VERSION --by ADMIN --reason TEXT [--redaction N] [--undo]",
		"Hides a historical version (node/5/2) from every read and feed: reading it answers 403, history and\n"+
			"changeset downloads leave it out, and the change feeds (Subscribe, replication, NATS) carry it\n"+
			"from then on as a redacted marker without tags or position. The current version cannot be\n"+
			"redacted. --undo shows it again. Each action is kept in the audit log (geocommuns audit).")
	sf.register(fs)
	fs.StringVar(&by, "by", "", "the `name` of the administrator taking the action")
	fs.StringVar(&reason, "reason", "", "why, for the audit log (`text`: a court order, a takedown request)")
	fs.Int64Var(&redactionID, "redaction", 0, "the `id` of the takedown in the operator's own records (OSM's redaction id)")
	fs.BoolVar(&undo, "undo", false, "show the version again")
	positional, err := parseInterspersed(fs, e, args)
	if err != nil {
		return err
	}
	if len(positional) != 1 || by == "" {
		return usageError{msg: "usage: geocommuns redact TYPE/ID/VERSION --by ADMIN --reason TEXT [--undo]"}
	}
	if reason == "" && !undo {
		return usageError{msg: "redact needs --reason TEXT: the audit log keeps why"}
	}
	key, err := storage.ParseRedactionTarget(positional[0])
	if err != nil {
		return usageError{msg: err.Error()}
	}
	store, admin, err := openAsAdmin(ctx, &sf, by)
	if err != nil {
		return err
	}
	defer store.Close()
	if undo {
		if err := store.Unredact(ctx, key, admin.ID, reason); errors.Is(err, storage.ErrNotFound) {
			return fmt.Errorf("%s is not redacted", storage.RedactionTarget(key))
		} else if err != nil {
			return err
		}
		fmt.Fprintf(e.stderr, "%s is shown again (by %s)\n", storage.RedactionTarget(key), admin.DisplayName)
		return nil
	}
	_, err = store.Redact(ctx, storage.Redaction{Version: key, RedactionID: redactionID, Reason: reason, AdminID: admin.ID})
	switch {
	case errors.Is(err, storage.ErrCannotRedactCurrent):
		return fmt.Errorf("%s is the current version: only historical versions can be redacted (edit the element first)", storage.RedactionTarget(key))
	case errors.Is(err, storage.ErrNotFound):
		return fmt.Errorf("%s: no such version", storage.RedactionTarget(key))
	case err != nil:
		return err
	}
	fmt.Fprintf(e.stderr, "%s is redacted (by %s); messages already published to NATS are not recalled (README, Redaction)\n",
		storage.RedactionTarget(key), admin.DisplayName)
	return nil
}

// runUserDelete is `geocommuns user delete NAME`: the account is
// pseudonymized (storage.Operations.DeleteAccount).
func runUserDelete(ctx context.Context, e *env, args []string) error {
	var (
		sf         storeFlags
		by, reason string
	)
	fs := newFlagSet(e, "user delete", " NAME --by ADMIN [--reason TEXT]",
		"Deletes the account NAME: it can no longer sign in (password, tokens, OAuth grants and sessions\n"+
			"go), and its name becomes user_ID on every version, changeset and pending change it made, which\n"+
			"keep their uid so history stays whole. Kept in the audit log (geocommuns audit).")
	sf.register(fs)
	fs.StringVar(&by, "by", "", "the `name` of the administrator taking the action")
	fs.StringVar(&reason, "reason", "", "why, for the audit log (`text`)")
	positional, err := parseInterspersed(fs, e, args)
	if err != nil {
		return err
	}
	if len(positional) != 1 || by == "" {
		return usageError{msg: "usage: geocommuns user delete NAME --by ADMIN [--reason TEXT]"}
	}
	store, admin, err := openAsAdmin(ctx, &sf, by)
	if err != nil {
		return err
	}
	defer store.Close()
	acc, err := store.AccountByName(ctx, positional[0])
	if errors.Is(err, storage.ErrNotFound) {
		return fmt.Errorf("no account is named %q", positional[0])
	}
	if err != nil {
		return err
	}
	deleted, err := store.DeleteAccount(ctx, acc.ID, admin.ID, reason)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stderr, "deleted the account %s (id %d): its history now reads %s\n", acc.DisplayName, acc.ID, deleted.DisplayName)
	fmt.Fprintln(e.stdout, deleted.DisplayName)
	return nil
}

// runAudit prints the administrators' audit log, oldest first, one
// tab-separated line per action: id, time, administrator id, action,
// target, reason.
func runAudit(ctx context.Context, e *env, args []string) error {
	var (
		sf    storeFlags
		after int64
		limit int
	)
	fs := newFlagSet(e, "audit", " [--after ID] [--limit N]",
		"Prints the administrators' actions (redactions, account deletions), oldest first: id, time,\n"+
			"administrator's user id, action, target, reason, tab-separated.")
	sf.register(fs)
	fs.Int64Var(&after, "after", 0, "print the entries after this `id` only")
	fs.IntVar(&limit, "limit", 1000, "print at most `N` entries")
	positional, err := parseInterspersed(fs, e, args)
	if err != nil {
		return err
	}
	if len(positional) != 0 || limit <= 0 {
		return usageError{msg: "usage: geocommuns audit [--after ID] [--limit N]"}
	}
	store, err := sf.open(ctx)
	if err != nil {
		return err
	}
	defer store.Close()
	entries, err := store.AdminAudit(ctx, after, limit)
	if err != nil {
		return err
	}
	for _, a := range entries {
		fmt.Fprintf(e.stdout, "%d\t%s\t%d\t%s\t%s\t%s\n", a.ID, a.CreatedAt.Format(time.RFC3339), a.AdminID, a.Action, a.Target, a.Reason)
	}
	return nil
}

// openAsAdmin opens the store and finds the administrator an action is
// by.
func openAsAdmin(ctx context.Context, sf *storeFlags, name string) (storage.Store, storage.Account, error) {
	store, err := sf.open(ctx)
	if err != nil {
		return nil, storage.Account{}, err
	}
	admin, err := storage.AdminAccount(ctx, store, name)
	if err != nil {
		store.Close()
		if errors.Is(err, storage.ErrNotFound) {
			return nil, storage.Account{}, fmt.Errorf("no account is named %q", name)
		}
		return nil, storage.Account{}, fmt.Errorf("--by %s: %w", name, err)
	}
	return store, admin, nil
}
