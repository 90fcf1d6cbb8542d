package main

import (
	"context"
	"flag"
	"fmt"
	"os"

	"github.com/geocommuns/geocommuns/storage"
	"github.com/geocommuns/geocommuns/storage/postgres"
	"github.com/geocommuns/geocommuns/storage/sqlite"
)

// storeFlags choose the dataset every command works on: the embedded
// SQLite store under --data, unless --postgres names a database.
type storeFlags struct {
	data     string
	postgres string
	schema   string
}

const defaultDataDir = "./geocommuns-data"

func (s *storeFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&s.data, "data", defaultDataDir, "the `directory` of the embedded SQLite dataset (unused with --postgres)")
	fs.StringVar(&s.postgres, "postgres", "", "a PostgreSQL connection `URL`; the dataset lives there instead of under --data")
	fs.StringVar(&s.schema, "schema", "", "the PostgreSQL `schema` of the dataset, created if missing (default: the connection's search_path)")
}

// describe names the dataset for messages, without the URL's password.
func (s *storeFlags) describe() string {
	if s.postgres == "" {
		return "SQLite dataset in " + s.data
	}
	desc := "PostgreSQL dataset at " + redactURL(s.postgres)
	if s.schema != "" {
		desc += ", schema " + s.schema
	}
	return desc
}

// open opens (creating and migrating it if needed) the dataset.
func (s *storeFlags) open(ctx context.Context) (storage.Store, error) {
	if s.postgres != "" {
		st, err := postgres.Open(ctx, postgres.Config{URL: s.postgres, Schema: s.schema})
		if err != nil {
			return nil, fmt.Errorf("open %s: %w", s.describe(), err)
		}
		return st, nil
	}
	if err := os.MkdirAll(s.data, 0o755); err != nil {
		return nil, fmt.Errorf("open %s: %w", s.describe(), err)
	}
	st, err := sqlite.Open(ctx, s.data)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", s.describe(), err)
	}
	return st, nil
}

// migrate applies pending migrations without opening the store for use.
func (s *storeFlags) migrate(ctx context.Context) error {
	if s.postgres != "" {
		if err := postgres.Migrate(ctx, postgres.Config{URL: s.postgres, Schema: s.schema}); err != nil {
			return fmt.Errorf("migrate %s: %w", s.describe(), err)
		}
		return nil
	}
	if err := os.MkdirAll(s.data, 0o755); err != nil {
		return fmt.Errorf("migrate %s: %w", s.describe(), err)
	}
	if err := sqlite.Migrate(ctx, s.data); err != nil {
		return fmt.Errorf("migrate %s: %w", s.describe(), err)
	}
	return nil
}
