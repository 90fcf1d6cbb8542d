package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/storage"
)

var _ storage.ChangeFeed = (*Store)(nil)

// WaitMerge wakes on the dataset's merge notifications, from this
// process or any other, through the store's one listening connection
// (see mergeListener), and polls in case one was missed.
func (s *Store) WaitMerge(ctx context.Context, afterSeq int64) (int64, error) {
	s.feed.start()
	return s.feed.signal.WaitMerge(ctx, afterSeq, s.feed.poll, s.LastMergeSeq)
}

// ElementVersions reads the versions with one statement per element type,
// the three sent in one round trip; redacted ones come withheld.
// Versions never change once written,
// so the statements need no common snapshot.
func (s *Store) ElementVersions(ctx context.Context, keys []storage.VersionKey) ([]osmdata.Element, error) {
	if len(keys) == 0 {
		return nil, nil
	}
	byType := storage.VersionsByType(keys)
	for t := range byType {
		if err := checkType(t); err != nil {
			return nil, fmt.Errorf("element versions: %w", err)
		}
	}
	var found []osmdata.Element
	b := &pgx.Batch{}
	for t, want := range byType {
		ids, versions := make([]int64, len(want)), make([]int32, len(want))
		for i, k := range want {
			ids[i], versions[i] = k.Element.ID, int32(k.Version)
		}
		b.Queue(`SELECT `+readColumns(t, "e.")+`, `+redactedColumn(t, "e")+`
			FROM unnest($1::bigint[], $2::integer[]) AS k(id, version)
			JOIN `+tableOf[t]+` AS e ON e.id = k.id AND e.version = k.version`, ids, versions).Query(func(rows pgx.Rows) error {
			els, redacted, err := collectRedactable(rows, t)
			if err != nil {
				return fmt.Errorf("%s versions: %w", t, err)
			}
			for i := range els {
				if redacted[i] {
					storage.Withhold(&els[i])
				}
			}
			found = append(found, els...)
			return nil
		})
	}
	if err := s.pool.SendBatch(ctx, b).Close(); err != nil {
		return nil, fmt.Errorf("element versions: %w", err)
	}
	els, err := storage.InKeyOrder(keys, found)
	if err != nil {
		return nil, fmt.Errorf("element versions: %w", err)
	}
	return els, nil
}
