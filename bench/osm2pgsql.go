package bench

import (
	"context"
	"fmt"
	"net/url"
	"os/exec"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// osm2pgsqlDatabase is a database of its own, since osm2pgsql needs the
// PostGIS extension, which geocommuns does not use.
const osm2pgsqlDatabase = "geocommuns_bench_osm2pgsql"

// runOsm2pgsql imports the same file with `osm2pgsql --slim` (null output:
// only its middle tables of nodes, ways and relations, the closest match
// to what geocommuns stores), for information beside our figure. Any
// reason it cannot run is reported in the row, not as a failure.
func runOsm2pgsql(ctx context.Context, pgURL, path string, elements float64) Result {
	r := Result{Scenario: "import " + regionOf(path), Backend: "postgres", Metric: "osm2pgsql --slim -O null", Unit: "el/s"}
	bin, err := exec.LookPath("osm2pgsql")
	if err != nil {
		r.Note = "osm2pgsql not installed; skipped"
		return r
	}
	target, err := prepareOsm2pgsqlDatabase(ctx, pgURL)
	if err != nil {
		r.Note = "skipped: " + err.Error()
		return r
	}
	schema := "o2p_" + randomSuffix()
	defer dropSchema(context.Background(), target, schema)
	conn, err := pgx.Connect(ctx, target)
	if err != nil {
		r.Note = "skipped: " + err.Error()
		return r
	}
	_, err = conn.Exec(ctx, "CREATE SCHEMA "+pgx.Identifier{schema}.Sanitize())
	conn.Close(ctx)
	if err != nil {
		r.Note = "skipped: " + err.Error()
		return r
	}
	start := time.Now()
	cmd := exec.CommandContext(ctx, bin, "--slim", "-O", "null", "--middle-schema="+schema, "-d", target, path)
	out, err := cmd.CombinedOutput()
	elapsed := time.Since(start)
	if err != nil {
		r.Note = fmt.Sprintf("failed: %v: %s", err, lastLine(string(out)))
		return r
	}
	r.Value = elements / elapsed.Seconds()
	r.Note = fmt.Sprintf("for information: %.2fs", elapsed.Seconds())
	return r
}

func prepareOsm2pgsqlDatabase(ctx context.Context, pgURL string) (string, error) {
	conn, err := pgx.Connect(ctx, pgURL)
	if err != nil {
		return "", err
	}
	defer conn.Close(ctx)
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", osm2pgsqlDatabase).Scan(&exists); err != nil {
		return "", err
	}
	if !exists {
		if _, err := conn.Exec(ctx, "CREATE DATABASE "+osm2pgsqlDatabase); err != nil {
			return "", fmt.Errorf("create database %s: %w", osm2pgsqlDatabase, err)
		}
	}
	u, err := url.Parse(pgURL)
	if err != nil {
		return "", err
	}
	u.Path = "/" + osm2pgsqlDatabase
	target := u.String()
	tconn, err := pgx.Connect(ctx, target)
	if err != nil {
		return "", err
	}
	defer tconn.Close(ctx)
	if _, err := tconn.Exec(ctx, "CREATE EXTENSION IF NOT EXISTS postgis"); err != nil {
		return "", fmt.Errorf("PostGIS is not available: %w", err)
	}
	return target, nil
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}
