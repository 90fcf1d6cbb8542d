package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/osmdata/osmfile"
)

func runExport(ctx context.Context, e *env, args []string) error {
	var sf storeFlags
	var hf headerFlags
	fs := newFlagSet(e, "export", " FILE.osm[.gz|.bz2]",
		"Writes every visible current element of the dataset, with full metadata (version,\n"+
			"timestamp, changeset, user and uid), to an OSM XML file compressed after its name.")
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

	start := time.Now()
	w, err := osmfile.Create(path, hf.header)
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	var counts elementCounts
	err = store.Export(ctx, func(el *osmdata.Element) error {
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
		return errors.Join(fmt.Errorf("export to %s: %w", path, err), os.Remove(path))
	}
	fmt.Fprintln(e.stdout, exportSummary(counts, path, time.Since(start)))
	return nil
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
