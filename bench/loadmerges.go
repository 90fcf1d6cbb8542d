package bench

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"connectrpc.com/connect"

	geocommunsv1 "github.com/geocommuns/geocommuns/gen/geocommuns/v1"
	"github.com/geocommuns/geocommuns/gen/geocommuns/v1/geocommunsv1connect"
)

// mergeWatch follows the server's merges on one Subscribe stream, as a
// mirror does, and lets every contributor wait for its own changeset.
type mergeWatch struct {
	mu       sync.Mutex
	got      []arrival
	merged   map[int64]bool // changeset ids merged whole
	err      error
	changed  chan struct{} // closed and replaced on every arrival
	patience time.Duration
}

// watchMerges opens a Subscribe stream after merge afterSeq on the server
// at url; it ends with ctx.
func watchMerges(ctx context.Context, client *http.Client, url string, afterSeq int64) (*mergeWatch, error) {
	w := &mergeWatch{merged: map[int64]bool{}, changed: make(chan struct{}), patience: feedPatience}
	rpc := geocommunsv1connect.NewSyncServiceClient(client, url)
	stream, err := rpc.Subscribe(ctx, connect.NewRequest(&geocommunsv1.SubscribeRequest{AfterSeq: afterSeq}))
	if err != nil {
		return nil, fmt.Errorf("subscribe after merge_seq %d: %w", afterSeq, err)
	}
	go func() {
		defer stream.Close()
		for stream.Receive() {
			if c := stream.Msg().GetChange(); c != nil {
				w.add(arrival{seq: c.GetMergeSeq(), part: int(c.GetPart()), parts: int(c.GetParts()), at: time.Now(), change: c})
			}
		}
		err := stream.Err()
		if ctx.Err() != nil {
			return
		}
		if err == nil {
			err = errors.New("the stream ended")
		}
		w.fail(fmt.Errorf("Subscribe: %w", err))
	}()
	return w, nil
}

func (w *mergeWatch) add(x arrival) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.got = append(w.got, x)
	if x.part == x.parts {
		w.merged[x.change.GetChangeset()] = true
	}
	close(w.changed)
	w.changed = make(chan struct{})
}

func (w *mergeWatch) fail(err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err == nil {
		w.err = err
	}
	close(w.changed)
	w.changed = make(chan struct{})
}

// wait returns once changeset id has merged, or fails after patience.
func (w *mergeWatch) wait(ctx context.Context, id int64) error {
	deadline := time.NewTimer(w.patience)
	defer deadline.Stop()
	for {
		w.mu.Lock()
		merged, err, changed := w.merged[id], w.err, w.changed
		w.mu.Unlock()
		switch {
		case merged:
			return nil
		case err != nil:
			return err
		}
		select {
		case <-changed:
		case <-deadline.C:
			return fmt.Errorf("changeset %d has not merged %s after it closed", id, w.patience)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (w *mergeWatch) snapshot() []arrival {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]arrival(nil), w.got...)
}
