package main

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/geocommuns/geocommuns/storage"
)

// importSummary is the one line `import` always ends with.
func importSummary(res storage.ImportResult, files int, elapsed time.Duration) string {
	return fmt.Sprintf("imported %d nodes, %d ways, %d relations (%d elements; %d users, %d changesets) from %d %s in %s: %s elements/s",
		res.Nodes, res.Ways, res.Relations, res.Elements(), res.Users, res.Changesets,
		files, plural(files, "file", "files"), elapsed.Round(time.Millisecond), rate(res.Elements(), elapsed))
}

// exportSummary is the one line `export` always ends with.
func exportSummary(c elementCounts, path string, elapsed time.Duration) string {
	return fmt.Sprintf("exported %d nodes, %d ways, %d relations (%d elements) to %s in %s: %s elements/s",
		c.nodes, c.ways, c.relations, c.total(), path, elapsed.Round(time.Millisecond), rate(c.total(), elapsed))
}

type elementCounts struct{ nodes, ways, relations int64 }

func (c elementCounts) total() int64 { return c.nodes + c.ways + c.relations }

func rate(n int64, elapsed time.Duration) string {
	if elapsed <= 0 {
		return "-"
	}
	return fmt.Sprintf("%.0f", float64(n)/elapsed.Seconds())
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// redactURL hides the password of a connection URL in messages.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" || strings.Contains(raw, " ") {
		// key=value connection strings may hold password=…; say nothing
		// of them.
		return "(connection string)"
	}
	return u.Redacted()
}
