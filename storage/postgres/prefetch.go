package postgres

import (
	"errors"
	"fmt"
	"io"

	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/storage"
)

const prefetchBatch = 1024

type prefetchedBatch struct {
	elements []osmdata.Element
	err      error // io.EOF at the end of the source
}

// prefetcher reads the source on its own goroutine, a batch at a time, so
// that decoding the file overlaps with encoding COPY rows. The reading
// goroutine also checks the order and gathers the aggregates, which keeps
// that work off the encoding goroutine. Batches hold copies of the
// elements, whose tag, node and member slices stay the source's: a source
// must not reuse them for later elements (osmfile allocates each one).
type prefetcher struct {
	batches chan prefetchedBatch
	free    chan []osmdata.Element
	stop    chan struct{}
	done    chan struct{}

	cur   []osmdata.Element
	i     int
	ended bool
	err   error // the source's error, io.EOF excluded
}

func startPrefetch(src storage.ElementSource, agg *importAggregates) *prefetcher {
	p := &prefetcher{
		batches: make(chan prefetchedBatch, 4),
		free:    make(chan []osmdata.Element, 6),
		stop:    make(chan struct{}),
		done:    make(chan struct{}),
	}
	go p.read(src, agg)
	return p
}

func (p *prefetcher) read(src storage.ElementSource, agg *importAggregates) {
	defer close(p.done)
	var last osmdata.Key
	for {
		var buf []osmdata.Element
		select {
		case buf = <-p.free:
			buf = buf[:0]
		default:
			buf = make([]osmdata.Element, 0, prefetchBatch)
		}
		var err error
		for len(buf) < prefetchBatch {
			var e *osmdata.Element
			e, err = src.Next()
			if err != nil {
				break
			}
			if e == nil {
				err = errors.New("the source returned no element and no error")
				break
			}
			k := e.Key()
			if agg.elements > 0 && !last.Less(k) {
				// Import relies on the order: the COPY per type, and
				// one version per element, depend on it.
				err = fmt.Errorf("the source is not in OSM order: %s after %s", k, last)
				break
			}
			last = k
			agg.add(e)
			buf = append(buf, *e)
		}
		select {
		case p.batches <- prefetchedBatch{buf, err}:
		case <-p.stop:
			return
		}
		if err != nil {
			return
		}
	}
}

// peek returns the next element without consuming it; nil at the end of
// the source or after its error (then in p.err).
func (p *prefetcher) peek() *osmdata.Element {
	for p.i >= len(p.cur) {
		if p.ended {
			return nil
		}
		if p.cur != nil {
			// Every row of this batch has been encoded: pgx asks for the
			// next row only after encoding the previous one.
			select {
			case p.free <- p.cur:
			default:
			}
		}
		b := <-p.batches
		p.cur, p.i = b.elements, 0
		if b.err != nil {
			p.ended = true
			if b.err != io.EOF {
				p.err = b.err
				return nil
			}
		}
	}
	return &p.cur[p.i]
}

func (p *prefetcher) advance() { p.i++ }

// close stops the reading goroutine and waits for it, so that the source
// is no longer used once close returns.
func (p *prefetcher) close() {
	close(p.stop)
	<-p.done
}
