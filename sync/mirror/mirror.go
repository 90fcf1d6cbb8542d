// Package mirror keeps a read-only copy of a geocommuns dataset up to
// date: an empty copy starts from the source's dump, then follows its
// Subscribe stream, applying each merge with the copy's position in one
// transaction, so that a crash at any moment neither loses nor doubles a
// merge and a restart resumes where the copy stands.
package mirror

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/geocommuns/geocommuns/storage"
)

// Target is the copy: a store that records a mirror's position.
type Target interface {
	storage.Store
	storage.Mirror
}

// Config is how a mirror follows its source.
type Config struct {
	// Source is the base URL of the source's `geocommuns serve`,
	// http://host:8080 for example.
	Source string
	// Client makes the dump download and the Subscribe stream; it must
	// not time out whole requests, the stream lasting forever.
	// http.DefaultClient when nil.
	Client *http.Client
	Logger *slog.Logger
	// MinBackoff and MaxBackoff bound the wait before reconnecting to a
	// source that is away; the wait doubles from the first to the second
	// and starts over once a merge arrives.
	MinBackoff, MaxBackoff time.Duration
}

// Defaults of Config.
const (
	DefaultMinBackoff = 200 * time.Millisecond
	DefaultMaxBackoff = 30 * time.Second
)

func (c Config) withDefaults() Config {
	c.Source = strings.TrimRight(c.Source, "/")
	if c.Client == nil {
		c.Client = http.DefaultClient
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.MinBackoff <= 0 {
		c.MinBackoff = DefaultMinBackoff
	}
	if c.MaxBackoff < c.MinBackoff {
		c.MaxBackoff = max(DefaultMaxBackoff, c.MinBackoff)
	}
	return c
}

// errDiverged is a failure that retrying cannot cure: the copy does not
// match what the source sends.
var errDiverged = errors.New("the mirror no longer matches its source")

// Run brings the copy up to date and keeps it so until ctx is done; it
// returns nil then. It fails only when the copy is not one of this
// source, or when a merge does not apply (the copy diverged).
func Run(ctx context.Context, store storage.Store, cfg Config) error {
	cfg = cfg.withDefaults()
	if cfg.Source == "" {
		return errors.New("mirror: no source URL")
	}
	target, ok := store.(Target)
	if !ok {
		return fmt.Errorf("mirror: the store (%T) cannot record a mirror's position", store)
	}
	m := &mirror{cfg: cfg, store: target}
	pos, err := m.start(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	err = m.follow(ctx, pos)
	if ctx.Err() != nil {
		return nil
	}
	return err
}

type mirror struct {
	cfg   Config
	store Target
}

// backoff waits before attempt n (from 0) of something that failed; it
// returns false when ctx ends first.
func (m *mirror) backoff(ctx context.Context, n int) bool {
	d := m.cfg.MinBackoff
	for range n {
		d *= 2
		if d >= m.cfg.MaxBackoff {
			d = m.cfg.MaxBackoff
			break
		}
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
