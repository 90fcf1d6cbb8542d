package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/osmdata/osmfile"
	"github.com/geocommuns/geocommuns/storage"
	"github.com/geocommuns/geocommuns/sync/replication"
)

func runExport(ctx context.Context, e *env, args []string) error {
	var sf storeFlags
	var hf headerFlags
	fs := newFlagSet(e, "export", " FILE.osm[.gz|.bz2]",
		"Writes every visible current element of the dataset, with full metadata (version,\n"+
			"timestamp, changeset, user and uid), to an OSM XML file compressed after its name,\n"+
			"and says on stderr the merge_seq and replication_seq it matches, as the dump's headers do:\n"+
			"a consumer of the replication feed applies the files after that replication_seq.")
	sf.register(fs)
	hf.register(fs)
	if err := parseFlags(fs, e, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageError{msg: "export takes one file name"}
	}
	path := fs.Arg(0)
	store, err := sf.open(ctx)
	if err != nil {
		return err
	}
	defer store.Close()

	// Both backends keep the feed; a store that did not could not say
	// which replication file the export follows.
	source, ok := store.(replication.DumpSource)
	if !ok {
		return fmt.Errorf("export: the %s keeps no replication feed to line the export up with", sf.describe())
	}
	start := time.Now()
	for range exportAttempts {
		counts, pos, err := exportOnce(ctx, source, path, hf.header)
		if errors.Is(err, errOvertaken) {
			continue
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stderr, "exported %d elements at merge_seq %d, replication_seq %d\n", counts.total(), pos.mergeSeq, pos.replicationSeq)
		fmt.Fprintln(e.stdout, exportSummary(counts, path, time.Since(start)))
		return nil
	}
	return fmt.Errorf("export to %s: merges kept committing during %d attempts, so no export matched one merge_seq; try again", path, exportAttempts)
}

// exportAttempts bounds how often an export is redone because a merge
// committed while it was written, as the dump does.
const exportAttempts = 5

var errOvertaken = errors.New("a merge committed during the export")

// feedPosition is where an export stands in the feeds: every merge up to
// mergeSeq and none after, every replication file up to replicationSeq
// (0 before the first), as the dump's headers say.
type feedPosition struct{ mergeSeq, replicationSeq int64 }

// exportOnce writes the dataset to path and returns where it stands. The
// export is one snapshot, but the store does not say which merge it ends
// at: merge_seq read before and after it says so when no merge committed
// in between, otherwise the file is removed and errOvertaken returned.
// The latest file is read first: files only grow, so it is one the
// export holds whole.
func exportOnce(ctx context.Context, source replication.DumpSource, path string, header osmdata.DocumentHeader) (elementCounts, feedPosition, error) {
	var counts elementCounts
	var pos feedPosition
	st, err := source.LatestReplicationState(ctx)
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		return counts, pos, fmt.Errorf("export: the latest replication file: %w", err)
	}
	pos.replicationSeq = st.Seq
	if pos.mergeSeq, err = source.LastMergeSeq(ctx); err != nil {
		return counts, pos, fmt.Errorf("export: the last merge_seq: %w", err)
	}
	w, err := osmfile.Create(path, header)
	if err != nil {
		return counts, pos, fmt.Errorf("export: %w", err)
	}
	err = source.Export(ctx, func(el *osmdata.Element) error {
		switch el.Type {
		case osmdata.Node:
			counts.nodes++
		case osmdata.Way:
			counts.ways++
		case osmdata.Relation:
			counts.relations++
		}
		return w.WriteElement(el)
	})
	if cerr := w.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		// A partial file would read as a valid, smaller dataset.
		return counts, pos, errors.Join(fmt.Errorf("export to %s: %w", path, err), os.Remove(path))
	}
	after, err := source.LastMergeSeq(ctx)
	if err != nil {
		return counts, pos, errors.Join(fmt.Errorf("export: the last merge_seq: %w", err), os.Remove(path))
	}
	if after != pos.mergeSeq {
		if err := os.Remove(path); err != nil {
			return counts, pos, fmt.Errorf("export to %s, overtaken by merge %d: %w", path, after, err)
		}
		return counts, pos, errOvertaken
	}
	return counts, pos, nil
}

func runMigrate(ctx context.Context, e *env, args []string) error {
	var sf storeFlags
	fs := newFlagSet(e, "migrate", "",
		"Applies the embedded schema migrations to the dataset, creating it if needed.\n"+
			"Every other command migrates on start too; this one lets a deployment run the DDL\n"+
			"with other rights than the server's.")
	sf.register(fs)
	if err := parseFlags(fs, e, args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return usageError{msg: "migrate takes no arguments"}
	}
	if err := sf.migrate(ctx); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "migrated the %s\n", sf.describe())
	return nil
}
