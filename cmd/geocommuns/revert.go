package main

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/geocommuns/geocommuns/review"
	"github.com/geocommuns/geocommuns/storage"
)

// runRevert reverts a merged changeset as a user, as ReviewService's
// Revert does: an operator undoing a vandal's changeset from the shell
// goes through the same review as anyone's revert.
func runRevert(ctx context.Context, e *env, args []string) error {
	var (
		sf      storeFlags
		user    string
		comment string
	)
	fs := newFlagSet(e, "revert", " ID --user NAME [--comment TEXT]",
		"Reverts the merged changeset ID in a new changeset of the user NAME, computed against the current\n"+
			"data: what later edits changed or depend on is skipped, never overwritten. The revert is submitted\n"+
			"for review like any changeset (its author cannot approve it). Prints the new changeset's id, then\n"+
			"one line per element it reverts and per element it skips, with the reason.")
	sf.register(fs)
	fs.StringVar(&user, "user", "", "the `name` of the user the revert is by")
	fs.StringVar(&comment, "comment", "", "the revert's comment `text` (default: one naming the changeset)")
	positional, err := parseInterspersed(fs, e, args)
	if err != nil {
		return err
	}
	if len(positional) != 1 || user == "" {
		return usageError{msg: "usage: geocommuns revert ID --user NAME [--comment TEXT]"}
	}
	id, err := strconv.ParseInt(positional[0], 10, 64)
	if err != nil || id <= 0 {
		return usageError{msg: fmt.Sprintf("changeset id %q is not a positive number", positional[0])}
	}

	store, err := sf.open(ctx)
	if err != nil {
		return err
	}
	defer store.Close()
	reviewStore, ok := store.(review.Store)
	if !ok {
		return fmt.Errorf("the %s keeps no review: nothing can be reverted", sf.describe())
	}
	acc, err := store.AccountByName(ctx, user)
	if errors.Is(err, storage.ErrNotFound) {
		return fmt.Errorf("no user is named %q", user)
	}
	if err != nil {
		return err
	}
	caller := review.Caller{UID: acc.ID, Name: acc.DisplayName, Role: acc.Role}
	rv, err := review.NewService(reviewStore, review.DefaultConfig()).RevertChangeset(ctx, caller, id, comment)
	if err != nil {
		return fmt.Errorf("revert changeset %d as %s: %w", id, acc.DisplayName, err)
	}
	fmt.Fprintf(e.stderr, "changeset %d of %s reverts changeset %d (%s): %d elements reverted, %d skipped\n",
		rv.Changeset.ID, acc.DisplayName, id, rv.Changeset.ReviewState, len(rv.Reverted), len(rv.Skipped))
	fmt.Fprintf(e.stdout, "changeset %d\n", rv.Changeset.ID)
	for _, k := range rv.Reverted {
		fmt.Fprintf(e.stdout, "reverted %s\n", k)
	}
	for _, s := range rv.Skipped {
		by := ""
		if s.By != 0 {
			by = fmt.Sprintf(" (kept by changeset %d)", s.By)
		}
		fmt.Fprintf(e.stdout, "skipped %s%s: %s\n", s.Element, by, s.Reason)
	}
	return nil
}
