package osmfile

import (
	"errors"
	"io"

	"github.com/geocommuns/geocommuns/osmdata"
)

// MultiReader merges several sorted files into one stream in OSM order.
// An element present in several files appears once, in its highest
// version, as `osmium merge` does.
type MultiReader struct {
	readers []*Reader
	heads   []*osmdata.Element // nil once a reader is exhausted
	err     error
}

// OpenAll opens every file and merges them by type, then id.
func OpenAll(paths []string) (*MultiReader, error) {
	if len(paths) == 0 {
		return nil, errors.New("no files to read")
	}
	m := &MultiReader{}
	for _, p := range paths {
		r, err := Open(p)
		if err != nil {
			m.Close()
			return nil, err
		}
		m.readers = append(m.readers, r)
	}
	m.heads = make([]*osmdata.Element, len(m.readers))
	for i := range m.readers {
		if err := m.advance(i); err != nil {
			m.Close()
			return nil, err
		}
	}
	return m, nil
}

func (m *MultiReader) advance(i int) error {
	e, err := m.readers[i].Next()
	if err == io.EOF {
		m.heads[i] = nil
		return nil
	}
	if err != nil {
		return err
	}
	m.heads[i] = e
	return nil
}

// Next returns the next element of the merged stream, or io.EOF.
func (m *MultiReader) Next() (*osmdata.Element, error) {
	if m.err != nil {
		return nil, m.err
	}
	// A handful of files: a linear scan of the heads beats a heap.
	best := -1
	for i, h := range m.heads {
		if h == nil {
			continue
		}
		if best < 0 || h.Key().Less(m.heads[best].Key()) ||
			(h.Key() == m.heads[best].Key() && h.Version > m.heads[best].Version) {
			best = i
		}
	}
	if best < 0 {
		m.err = io.EOF
		return nil, io.EOF
	}
	e := m.heads[best]
	for i, h := range m.heads {
		if h != nil && h.Key() == e.Key() {
			if err := m.advance(i); err != nil {
				m.err = err
				return nil, err
			}
		}
	}
	return e, nil
}

// Progress reports how many bytes of the files (as stored on disk) have
// been read, out of their total size. It is safe to call from another
// goroutine while Next runs, as a progress bar does.
func (m *MultiReader) Progress() (read, total int64) {
	for _, r := range m.readers {
		n, t := r.Progress()
		read += n
		total += t
	}
	return read, total
}

// Close releases every file.
func (m *MultiReader) Close() error {
	var errs []error
	for _, r := range m.readers {
		errs = append(errs, r.Close())
	}
	return errors.Join(errs...)
}
