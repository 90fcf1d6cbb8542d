package review

import (
	"context"
	"errors"
	"sync"

	"github.com/geocommuns/geocommuns/osmdata"
)

// minChunkIDs is the fewest ids a chunk of a split read carries: below
// it, one more round trip costs more than decoding the rows in parallel
// saves.
const minChunkIDs = 2000

// chunkReaders is how many chunks of one read run at once. Most of a
// large read is decoding rows (tags, timestamps, names) on both sides of
// the connection, which several connections do side by side.
const chunkReaders = 4

// readChunked runs read over ids cut into up to chunkReaders chunks at
// once and returns each chunk's result, unjoined: copying tens of
// thousands of elements into one slice costs more than looping over a
// few. A row answering ids of several chunks comes once per chunk.
func readChunked(ctx context.Context, ids []int64, read func(context.Context, []int64) ([]osmdata.Element, error)) ([][]osmdata.Element, error) {
	chunks := min(chunkReaders, len(ids)/minChunkIDs)
	if chunks <= 1 {
		els, err := read(ctx, ids)
		return [][]osmdata.Element{els}, err
	}
	results := make([][]osmdata.Element, chunks)
	errs := make([]error, chunks)
	var wg sync.WaitGroup
	size := (len(ids) + chunks - 1) / chunks
	for i := range chunks {
		part := ids[min(i*size, len(ids)):min((i+1)*size, len(ids))]
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], errs[i] = read(ctx, part)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return results, nil
}
