package mirror

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"

	"github.com/geocommuns/geocommuns/osmdata/osmfile"
	"github.com/geocommuns/geocommuns/storage"
	"github.com/geocommuns/geocommuns/sync/replication"
)

// start returns the merge_seq the copy holds, importing the source's
// dump first into an empty copy. The position is recorded before the
// import (marked unfinished) and marked imported after it: the import is
// a transaction of its own, so after a crash in between the dataset
// itself says whether it committed.
func (m *mirror) start(ctx context.Context) (int64, error) {
	pos, ok, err := m.store.MirrorPosition(ctx)
	if err != nil {
		return 0, fmt.Errorf("mirror: %w", err)
	}
	if ok && pos.Source != m.cfg.Source {
		return 0, fmt.Errorf("mirror: the dataset mirrors %s, not %s", pos.Source, m.cfg.Source)
	}
	if ok && pos.Imported {
		m.cfg.Logger.Info("mirror: resuming", "source", m.cfg.Source, "merge_seq", pos.MergeSeq)
		return pos.MergeSeq, nil
	}
	empty, err := m.empty(ctx)
	if err != nil {
		return 0, err
	}
	switch {
	case ok && !empty:
		// The import committed; the crash came before it was marked.
		if err := m.store.MirrorImported(ctx); err != nil {
			return 0, fmt.Errorf("mirror: %w", err)
		}
		m.cfg.Logger.Info("mirror: the dump's import had committed; resuming", "source", m.cfg.Source, "merge_seq", pos.MergeSeq)
		return pos.MergeSeq, nil
	case !ok && !empty:
		return 0, fmt.Errorf("mirror: the dataset is not empty and is no mirror: a mirror starts from an empty dataset")
	}
	for attempt := 0; ; attempt++ {
		seq, err := m.importDump(ctx)
		if err == nil {
			return seq, nil
		}
		if !retryable(err) {
			return 0, err
		}
		m.cfg.Logger.Warn("mirror: dump failed; retrying", "source", m.cfg.Source, "err", err)
		if !m.backoff(ctx, attempt) {
			return 0, ctx.Err()
		}
	}
}

// empty tells whether the dataset has nothing an import would refuse.
func (m *mirror) empty(ctx context.Context) (bool, error) {
	c, err := m.store.Counts(ctx)
	if err != nil {
		return false, fmt.Errorf("mirror: count the dataset: %w", err)
	}
	return c.Nodes+c.Ways+c.Relations == 0 && c.Versions == 0 && c.Users == 0 && c.Changesets == 0, nil
}

// permanentError is a failure retrying cannot cure.
type permanentError struct{ err error }

func (p permanentError) Error() string { return p.err.Error() }
func (p permanentError) Unwrap() error { return p.err }

func retryable(err error) bool {
	_, permanent := err.(permanentError)
	return !permanent
}

// importDump downloads the dump to a temporary file (the import reads a
// file, and a download cut short must not import half a dataset), then
// records the position and imports it.
func (m *mirror) importDump(ctx context.Context) (int64, error) {
	url := m.cfg.Source + "/replication/dump/latest.osm.gz"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, permanentError{fmt.Errorf("mirror: %w", err)}
	}
	resp, err := m.cfg.Client.Do(req)
	if err != nil {
		return 0, fmt.Errorf("mirror: download the dump: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		err := fmt.Errorf("mirror: download the dump: GET %s: %s: %s", url, resp.Status, body)
		// A client error says the URL is wrong (no geocommuns server
		// there), which waiting does not mend; 503 while merges never
		// pause, and the source's restarts, do mend.
		if resp.StatusCode >= 400 && resp.StatusCode < 500 &&
			resp.StatusCode != http.StatusRequestTimeout && resp.StatusCode != http.StatusTooManyRequests {
			return 0, permanentError{err}
		}
		return 0, err
	}
	seq, err := strconv.ParseInt(resp.Header.Get(replication.MergeSeqHeader), 10, 64)
	if err != nil || seq < 0 {
		return 0, permanentError{fmt.Errorf("mirror: the dump at %s has no valid %s header (%q): is it a geocommuns server?",
			url, replication.MergeSeqHeader, resp.Header.Get(replication.MergeSeqHeader))}
	}
	f, err := os.CreateTemp("", "geocommuns-mirror-*.osm.gz")
	if err != nil {
		return 0, permanentError{fmt.Errorf("mirror: %w", err)}
	}
	defer os.Remove(f.Name())
	_, err = io.Copy(f, resp.Body)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return 0, fmt.Errorf("mirror: download the dump: %w", err)
	}

	if err := m.store.BeginMirror(ctx, m.cfg.Source, seq); err != nil {
		return 0, permanentError{fmt.Errorf("mirror: %w", err)}
	}
	src, err := osmfile.OpenAll([]string{f.Name()})
	if err != nil {
		return 0, permanentError{fmt.Errorf("mirror: read the dump: %w", err)}
	}
	defer src.Close()
	res, err := m.store.Import(ctx, src)
	if err != nil {
		return 0, permanentError{fmt.Errorf("mirror: import the dump: %w", err)}
	}
	if err := m.store.MirrorImported(ctx); err != nil {
		return 0, permanentError{fmt.Errorf("mirror: %w", err)}
	}
	m.cfg.Logger.Info("mirror: dump imported", "source", m.cfg.Source, "merge_seq", seq,
		"elements", res.Elements(), "duration", res.Duration)
	return seq, nil
}

var _ storage.ElementSource = (*osmfile.MultiReader)(nil)
