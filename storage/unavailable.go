package storage

import (
	"errors"
	"sync"
)

// ErrUnavailable means the database cannot serve the call now: it is
// down, restarting, refusing connections, or held by another writer past
// the wait the backend allows. Nothing of the call was kept (a write is
// one transaction), and the same call may succeed later: the API layers
// answer it 503 with Retry-After (Connect: unavailable), never 500.
var ErrUnavailable = errors.New("the database is unavailable")

// UnavailableRetryAfter is the Retry-After, in seconds, every API answers
// with ErrUnavailable: a restart of the database takes seconds, and
// clients retrying at once would only add load to one coming back.
const UnavailableRetryAfter = 5

// unavailableKinds are the backends' own recognizers of their driver's
// errors that mean ErrUnavailable (RecognizeUnavailable).
var unavailableKinds struct {
	sync.RWMutex
	recognize []func(error) bool
}

// RecognizeUnavailable adds a backend's recognizer of its driver's errors
// that mean the database is away (a refused connection, a server shutting
// down, a lock held past its wait). A backend calls it from init: its
// driver's errors then count as ErrUnavailable wherever they surface,
// wrapped with %w, without every one of its statements wrapping them.
func RecognizeUnavailable(recognize func(error) bool) {
	unavailableKinds.Lock()
	defer unavailableKinds.Unlock()
	unavailableKinds.recognize = append(unavailableKinds.recognize, recognize)
}

// IsUnavailable reports whether err (or an error it wraps) is
// ErrUnavailable or a driver error a backend recognizes as meaning it.
func IsUnavailable(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, ErrUnavailable) {
		return true
	}
	unavailableKinds.RLock()
	defer unavailableKinds.RUnlock()
	for _, recognize := range unavailableKinds.recognize {
		if recognize(err) {
			return true
		}
	}
	return false
}
