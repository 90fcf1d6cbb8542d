package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/geocommuns/geocommuns/storage/sqlite"
)

func runBackup(ctx context.Context, e *env, args []string) error {
	var sf storeFlags
	fs := newFlagSet(e, "backup", " DEST",
		"Copies the embedded SQLite dataset under --data, as one consistent snapshot, to DEST, a new\n"+
			"directory that 'geocommuns serve --data DEST' then serves; it runs while serve runs on\n"+
			"--data. The embedded NATS stream (DIR/nats) is not copied: serve refills it from the\n"+
			"dataset. A PostgreSQL dataset is backed up with pg_dump, which the command prints.")
	sf.register(fs)
	if err := parseFlags(fs, e, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageError{msg: "backup takes one destination directory"}
	}
	dest := fs.Arg(0)
	if sf.postgres != "" {
		return errors.New(pgDumpAdvice(sf))
	}
	// Opening would create an empty dataset where there is none, and
	// back that up.
	if _, err := os.Stat(sqlite.Path(sf.data)); errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("no dataset to back up in %s (no %s)", sf.data, sqlite.FileName)
	}
	store, err := sf.open(ctx)
	if err != nil {
		return err
	}
	defer store.Close()
	sqliteStore, ok := store.(*sqlite.Store)
	if !ok {
		return fmt.Errorf("backup: the %s is not an embedded store", sf.describe())
	}
	if err := sqliteStore.Backup(ctx, dest); err != nil {
		return err
	}

	// Opening the copy is the check that it is a dataset, and says what
	// it holds.
	backup, err := sqlite.Open(ctx, dest)
	if err != nil {
		return fmt.Errorf("open the backup in %s: %w", dest, err)
	}
	defer backup.Close()
	counts, err := backup.Counts(ctx)
	if err != nil {
		return fmt.Errorf("count the backup in %s: %w", dest, err)
	}
	seq, err := backup.LastMergeSeq(ctx)
	if err != nil {
		return fmt.Errorf("the backup's last merge_seq in %s: %w", dest, err)
	}
	fmt.Fprintf(e.stdout, "backed up the %s to %s at merge_seq %d: %d nodes, %d ways, %d relations, %d versions, %d changesets, %d users\n",
		sf.describe(), dest, seq, counts.Nodes, counts.Ways, counts.Relations, counts.Versions, counts.Changesets, counts.Users)
	return nil
}

// pgDumpAdvice is the refusal of a PostgreSQL backup: PostgreSQL's own
// tools copy a schema consistently while it is served, and restore it.
func pgDumpAdvice(sf storeFlags) string {
	redacted := redactURL(sf.postgres)
	url := shellQuote(redacted)
	schema, scope, into := "--schema="+shellQuote(sf.schema)+" ", "the schema "+sf.schema, "a database without that schema"
	if sf.schema == "" {
		schema, scope, into = "", "the whole database (no --schema was given)", "an empty database"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "a PostgreSQL dataset is backed up with pg_dump, not by geocommuns; to copy %s:\n", scope)
	fmt.Fprintf(&b, "  pg_dump --format=custom %s%s > FILE\n", schema, url)
	fmt.Fprintf(&b, "and to restore it into %s:\n", into)
	fmt.Fprintf(&b, "  pg_restore --dbname %s FILE", url)
	if redacted != sf.postgres {
		b.WriteString("\n(the URL's password is shown as xxxxx; pg_dump also reads it from PGPASSWORD or ~/.pgpass)")
	}
	return b.String()
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-./:@=%+,") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
