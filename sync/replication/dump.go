package replication

import (
	"bufio"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strconv"

	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/storage"
)

// Response headers of the dump: where in the feeds it stands.
const (
	// MergeSeqHeader is the merge_seq the dump holds every merge up to
	// and none after: Subscribe and NATS consumers continue after it.
	MergeSeqHeader = "Geocommuns-Merge-Seq"
	// ReplicationSeqHeader is the latest replication file whose merges
	// the dump holds all of (0 before the first file): a consumer of the
	// feed applies the files after it. The next file may repeat merges
	// the dump holds already; its elements carry their full content, so
	// applying them in order ends where the feed does.
	ReplicationSeqHeader = "Geocommuns-Replication-Seq"
)

// dumpAttempts bounds how often the dump is redone because a merge
// committed while it was being written.
const dumpAttempts = 5

// DumpSource is what the dump reads.
type DumpSource interface {
	LastMergeSeq(ctx context.Context) (int64, error)
	Export(ctx context.Context, fn func(*osmdata.Element) error) error
	LatestReplicationState(ctx context.Context) (storage.ReplicationState, error)
}

// dump answers GET /replication/dump/latest.osm.gz: every visible current
// element, as `geocommuns export` writes them, with the merge_seq and
// replication_seq it matches. The export is one snapshot, but the store
// does not say which merge that snapshot ends at; merge_seq read before
// and after the same says it, when no merge committed in between. The
// file is written aside first, so that a dump overtaken by a merge is
// redone rather than half sent.
func (h *Handler) dump(w http.ResponseWriter, r *http.Request) {
	for range dumpAttempts {
		path, mergeSeq, replicationSeq, err := h.writeDump(r.Context())
		if errors.Is(err, errOvertaken) {
			continue
		}
		if err != nil {
			h.fail(w, r, err)
			return
		}
		defer os.Remove(path)
		f, err := os.Open(path)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		defer f.Close()
		w.Header().Set("Content-Type", "application/gzip")
		w.Header().Set("Cache-Control", "no-cache")
		w.Header().Set(MergeSeqHeader, strconv.FormatInt(mergeSeq, 10))
		w.Header().Set(ReplicationSeqHeader, strconv.FormatInt(replicationSeq, 10))
		http.ServeContent(w, r, "", zeroTime, f)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Retry-After", "5")
	w.WriteHeader(http.StatusServiceUnavailable)
	fmt.Fprintf(w, "merges kept committing while the dump was written (%d attempts); try again\n", dumpAttempts)
}

var errOvertaken = errors.New("a merge committed during the dump")

// writeDump writes the dump to a temporary file and returns it with the
// merge_seq it ends at and the replication file it follows.
func (h *Handler) writeDump(ctx context.Context) (path string, mergeSeq, replicationSeq int64, err error) {
	// The file first: files only grow, and one read before the export
	// ends at or before the export's merge.
	st, err := h.Dataset.LatestReplicationState(ctx)
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		return "", 0, 0, fmt.Errorf("dump: %w", err)
	}
	before, err := h.Dataset.LastMergeSeq(ctx)
	if err != nil {
		return "", 0, 0, fmt.Errorf("dump: %w", err)
	}
	f, err := os.CreateTemp("", "geocommuns-dump-*.osm.gz")
	if err != nil {
		return "", 0, 0, fmt.Errorf("dump: %w", err)
	}
	defer func() {
		if err != nil {
			os.Remove(f.Name())
		}
	}()
	buf := bufio.NewWriterSize(f, 256<<10)
	zw := gzip.NewWriter(buf)
	doc := osmdata.NewXMLWriter(zw, h.Header)
	err = h.Dataset.Export(ctx, doc.WriteElement)
	err = errors.Join(err, doc.Close(), zw.Close(), buf.Flush(), f.Close())
	if err != nil {
		return "", 0, 0, fmt.Errorf("dump: %w", err)
	}
	after, err := h.Dataset.LastMergeSeq(ctx)
	if err != nil {
		return "", 0, 0, fmt.Errorf("dump: %w", err)
	}
	if after != before {
		return "", 0, 0, errOvertaken
	}
	return f.Name(), before, st.Seq, nil
}
