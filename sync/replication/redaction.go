package replication

import (
	"context"
	"fmt"

	"github.com/geocommuns/geocommuns/storage"
)

// withoutRedacted returns file f's content, rendered again from the
// outbox first when a redaction (or unredaction) touched its merges
// since it was cut: ElementVersions now gives the redacted version
// withheld, so the new file keeps every merge and change, without the
// version's tags and position. The file keeps its number and range; only
// its bytes (and so its ETag) change. Caches that kept the old bytes
// (the files are served as immutable) are the operator's to purge.
func (h *Handler) withoutRedacted(ctx context.Context, f storage.ReplicationFile) ([]byte, error) {
	rewriter, ok := h.Store.(storage.ReplicationRewriter)
	if !ok {
		return f.OsmChangeGzip, nil
	}
	pending, err := rewriter.ReplicationRedactionsPending(ctx, f.Seq)
	if err != nil {
		return nil, err
	}
	if pending == 0 {
		return f.OsmChangeGzip, nil
	}
	source, ok := h.Store.(Store)
	if !ok {
		return nil, fmt.Errorf("replication file %d holds a redacted version, and the store cannot render it again", f.Seq)
	}
	entries, err := source.Outbox(ctx, f.FirstMergeSeq-1, int(f.LastMergeSeq-f.FirstMergeSeq+1))
	if err != nil {
		return nil, fmt.Errorf("render replication file %d again: %w", f.Seq, err)
	}
	if len(entries) == 0 || entries[0].Seq != f.FirstMergeSeq || entries[len(entries)-1].Seq != f.LastMergeSeq {
		return nil, fmt.Errorf("render replication file %d again: the outbox no longer holds merges %d to %d", f.Seq, f.FirstMergeSeq, f.LastMergeSeq)
	}
	content, err := encodeMerges(ctx, source, h.Header, entries)
	if err != nil {
		return nil, fmt.Errorf("render replication file %d again: %w", f.Seq, err)
	}
	if err := rewriter.RewriteReplicationFile(ctx, f.Seq, pending, content); err != nil {
		return nil, err
	}
	return content, nil
}
