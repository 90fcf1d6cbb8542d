package sqlite

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/storage"
)

var _ storage.ChangeFeed = (*Store)(nil)

// mergePoll bounds how late WaitMerge sees a merge that another process
// (a CLI command beside serve) made: only this process's merges wake it.
const mergePoll = time.Second

// WaitMerge waits for this process's next merge, or polls.
func (s *Store) WaitMerge(ctx context.Context, afterSeq int64) (int64, error) {
	return s.merged.WaitMerge(ctx, afterSeq, mergePoll, s.LastMergeSeq)
}

// ElementVersions reads the versions with one statement per element type
// on the read pool: the keys travel as one JSON array of [id, version]
// pairs, walked as the outer loop (CROSS JOIN) over the primary key.
// Redacted versions come withheld.
func (s *Store) ElementVersions(ctx context.Context, keys []storage.VersionKey) ([]osmdata.Element, error) {
	byType := storage.VersionsByType(keys)
	for t := range byType {
		if _, err := table(t); err != nil {
			return nil, fmt.Errorf("element versions: %w", err)
		}
	}
	var found []osmdata.Element
	for t, want := range byType {
		tbl, _ := table(t)
		rows, err := s.reader.QueryContext(ctx, "SELECT "+columns(t, "e.")+", "+redactedColumn(t, "e")+" FROM json_each(?) AS k CROSS JOIN "+tbl+
			" AS e WHERE e.id = k.value->>0 AND e.version = k.value->>1", versionPairsJSON(want))
		if err != nil {
			return nil, fmt.Errorf("%s versions: %w", t, err)
		}
		els, redacted, err := scanRedactable(rows, t)
		if err != nil {
			return nil, fmt.Errorf("%s versions: %w", t, err)
		}
		for i := range els {
			if redacted[i] {
				storage.Withhold(&els[i])
			}
		}
		found = append(found, els...)
	}
	els, err := storage.InKeyOrder(keys, found)
	if err != nil {
		return nil, fmt.Errorf("element versions: %w", err)
	}
	return els, nil
}

// versionPairsJSON writes keys as [[id, version], ...].
func versionPairsJSON(keys []storage.VersionKey) string {
	b := make([]byte, 0, 16*len(keys)+2)
	b = append(b, '[')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '[')
		b = strconv.AppendInt(b, k.Element.ID, 10)
		b = append(b, ',')
		b = strconv.AppendInt(b, int64(k.Version), 10)
		b = append(b, ']')
	}
	return string(append(b, ']'))
}
