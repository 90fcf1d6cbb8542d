// Package replication is the OSM replication feed (issue 5): a cutter job
// that writes the merges of each interval into one osmChange file stored
// in the dataset, and the HTTP handlers that serve those files laid out
// as planet.openstreetmap.org does, so that pyosmium-get-changes,
// osm2pgsql-replication, osmium and paulmach/osm/replication read them
// unchanged.
package replication

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/geocommuns/geocommuns/storage"
)

// MaxSeq is the largest replication_seq the planet layout (three groups
// of three digits) can name.
const MaxSeq = 999_999_999

// SeqPath is the planet path of a file without its extension:
// 000/123/456 for 123456.
func SeqPath(seq int64) string {
	return fmt.Sprintf("%03d/%03d/%03d", seq/1_000_000, seq/1000%1000, seq%1000)
}

// ParseSeqPath reads the three groups of a planet path back into a
// replication_seq; each group is exactly three digits, as the tools write
// them.
func ParseSeqPath(aaa, bbb, ccc string) (int64, error) {
	var seq int64
	for _, g := range []string{aaa, bbb, ccc} {
		if len(g) != 3 || strings.Trim(g, "0123456789") != "" {
			return 0, fmt.Errorf("%s/%s/%s: a replication path has three groups of three digits, like 000/012/345", aaa, bbb, ccc)
		}
		n, _ := strconv.Atoi(g)
		seq = seq*1000 + int64(n)
	}
	return seq, nil
}

// javaDate is how Osmosis (java.util.Date.toString) dates the comment line
// of a state file; tools skip that line, but people read it.
const javaDate = "Mon Jan 02 15:04:05 MST 2006"

// StateText is the state.txt of a file as Osmosis and planet write it:
// sequenceNumber and timestamp, the colons escaped as in a Java properties
// file. The merge range follows under names the tools ignore, so that a
// consumer can line the feed up with merge_seq (Subscribe, NATS, the
// dump). Everything comes from the stored state, so that a file's state
// reads the same from every process, every time.
func StateText(st storage.ReplicationState) string {
	ts := st.Timestamp.UTC()
	return "#" + ts.Format(javaDate) + "\n" +
		"sequenceNumber=" + strconv.FormatInt(st.Seq, 10) + "\n" +
		"timestamp=" + strings.ReplaceAll(ts.Format(time.RFC3339), ":", `\:`) + "\n" +
		"firstMergeSeq=" + strconv.FormatInt(st.FirstMergeSeq, 10) + "\n" +
		"lastMergeSeq=" + strconv.FormatInt(st.LastMergeSeq, 10) + "\n"
}

// ParseStateText reads a state.txt that StateText wrote; tests and
// mirrors use it.
func ParseStateText(text string) (storage.ReplicationState, error) {
	var st storage.ReplicationState
	var haveSeq, haveTime bool
	for line := range strings.Lines(text) {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		key, value, ok := strings.Cut(line, "=")
		if !ok {
			return st, fmt.Errorf("state.txt: line %q has no '='", line)
		}
		var err error
		switch key {
		case "sequenceNumber":
			st.Seq, err = strconv.ParseInt(value, 10, 64)
			haveSeq = true
		case "timestamp":
			st.Timestamp, err = time.Parse(time.RFC3339, strings.ReplaceAll(value, `\:`, ":"))
			haveTime = true
		case "firstMergeSeq":
			st.FirstMergeSeq, err = strconv.ParseInt(value, 10, 64)
		case "lastMergeSeq":
			st.LastMergeSeq, err = strconv.ParseInt(value, 10, 64)
		}
		if err != nil {
			return st, fmt.Errorf("state.txt: %s: %w", key, err)
		}
	}
	if !haveSeq || !haveTime {
		return st, errors.New("state.txt: sequenceNumber or timestamp missing")
	}
	return st, nil
}
