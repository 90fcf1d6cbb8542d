// Package postgres is the PostgreSQL backend of storage.Store: the
// authoritative dataset in one schema, bulk import by binary COPY, and
// every read as one statement with array parameters.
package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/geocommuns/geocommuns/storage"
)

// Config says where the dataset lives.
type Config struct {
	// URL is a PostgreSQL connection string (URL or key=value form).
	URL string
	// Schema, when set, holds every table of the dataset; it is created if
	// missing and set as each connection's search_path. Empty uses the
	// connection's default search_path.
	Schema string
}

// Store is a dataset in PostgreSQL. It is safe for concurrent use.
type Store struct {
	queries
	pool *pgxpool.Pool
	// early serves the work an upload does outside its transaction
	// (storage.EarlyReader) while that transaction waits for it: on the
	// main pool, uploads as many as its connections each held one in a
	// transaction waiting for an early read that no connection was left
	// for, and every upload of the process hung (bench load, 16
	// contributors, pgxpool's default of 4 connections on 2 cores).
	// Early work holds its connection for one statement and waits for
	// nothing else, so it always gets one.
	early  *pgxpool.Pool
	schema string
	// feed wakes WaitMerge when a merge commits (changefeed.go).
	feed *mergeListener
}

var _ storage.Store = (*Store)(nil)

// Open connects, creates the schema if missing, applies pending
// migrations and returns the store.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	pool, err := openPool(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if err := migrate(ctx, pool, cfg.Schema); err != nil {
		pool.Close()
		return nil, err
	}
	feed, err := newMergeListener(ctx, pool, cfg.Schema)
	if err != nil {
		pool.Close()
		return nil, err
	}
	early, err := openEarlyPool(ctx, cfg)
	if err != nil {
		feed.close()
		pool.Close()
		return nil, err
	}
	return &Store{queries: queries{pool}, pool: pool, early: early, schema: cfg.Schema, feed: feed}, nil
}

// earlyConns is the size of the early pool: its statements are short and
// queue for a connection only behind each other.
const earlyConns = 2

// openEarlyPool opens the pool of the uploads' early work, on the schema
// the main pool created.
func openEarlyPool(ctx context.Context, cfg Config) (*pgxpool.Pool, error) {
	pc, err := poolConfig(cfg)
	if err != nil {
		return nil, err
	}
	pc.MaxConns = earlyConns
	pool, err := pgxpool.NewWithConfig(ctx, pc)
	if err != nil {
		return nil, fmt.Errorf("connect to postgres: %w", err)
	}
	return pool, nil
}

// Migrate applies pending migrations and returns; `geocommuns migrate`
// runs it.
func Migrate(ctx context.Context, cfg Config) error {
	pool, err := openPool(ctx, cfg)
	if err != nil {
		return err
	}
	defer pool.Close()
	return migrate(ctx, pool, cfg.Schema)
}

func openPool(ctx context.Context, cfg Config) (*pgxpool.Pool, error) {
	pc, err := poolConfig(cfg)
	if err != nil {
		return nil, err
	}
	pool, err := pgxpool.NewWithConfig(ctx, pc)
	if err != nil {
		return nil, fmt.Errorf("connect to postgres: %w", err)
	}
	if cfg.Schema != "" {
		if err := createSchema(ctx, pool, cfg.Schema); err != nil {
			pool.Close()
			return nil, err
		}
	}
	return pool, nil
}

func poolConfig(cfg Config) (*pgxpool.Config, error) {
	pc, err := pgxpool.ParseConfig(cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("parse postgres url: %w", err)
	}
	if cfg.Schema != "" {
		// A runtime parameter rather than a SET after connecting: it holds
		// for every pooled connection, including ones opened later.
		pc.ConnConfig.RuntimeParams["search_path"] = pgx.Identifier{cfg.Schema}.Sanitize()
	}
	// Every query here is a short bulk read or write whose estimated cost
	// (nested loops over parameter arrays) can pass jit_above_cost; JIT
	// then adds tens of milliseconds to a query of a few.
	pc.ConnConfig.RuntimeParams["jit"] = "off"
	if pc.ConnConfig.ConnectTimeout == 0 {
		pc.ConnConfig.ConnectTimeout = defaultConnectTimeout
	}
	return pc, nil
}

func createSchema(ctx context.Context, pool *pgxpool.Pool, schema string) error {
	_, err := pool.Exec(ctx, "CREATE SCHEMA IF NOT EXISTS "+pgx.Identifier{schema}.Sanitize())
	var pgErr *pgconn.PgError
	// Two processes creating the schema at once: IF NOT EXISTS does not
	// guard against the race, the loser sees a unique violation.
	if errors.As(err, &pgErr) && (pgErr.Code == "23505" || pgErr.Code == "42P06") {
		return nil
	}
	if err != nil {
		return fmt.Errorf("create schema %s: %w", schema, err)
	}
	return nil
}

// Close releases the connections.
func (s *Store) Close() error {
	s.feed.close()
	s.early.Close()
	s.pool.Close()
	return nil
}

// DropSchema removes the store's schema and everything in it; tests use
// it to leave nothing behind. It refuses a store opened without a schema.
func (s *Store) DropSchema(ctx context.Context) error {
	if s.schema == "" {
		return errors.New("drop schema: the store was opened without a schema")
	}
	if _, err := s.pool.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{s.schema}.Sanitize()+" CASCADE"); err != nil {
		return fmt.Errorf("drop schema %s: %w", s.schema, err)
	}
	return nil
}

// lockDataset takes the replication_state row lock that serializes every
// write to the dataset (imports, applies, merges) until tx ends.
func lockDataset(ctx context.Context, tx pgx.Tx) error {
	var seq int64
	if err := tx.QueryRow(ctx, "SELECT last_seq FROM replication_state WHERE id = 1 FOR UPDATE").Scan(&seq); err != nil {
		return fmt.Errorf("lock replication_state: %w", err)
	}
	return nil
}
