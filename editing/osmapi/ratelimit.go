package osmapi

import (
	"net/http"
	"strconv"
	"time"

	"github.com/geocommuns/geocommuns/editing"
)

// WriteRateLimited answers a write refused by the per-user rate limit
// as cgimap answers its own 429 (text, Error header, X-Error-Format),
// with the CORS headers a web editor needs to read it, and Retry-After
// in whole seconds, at least 1 (a client reading 0 would retry at once).
func WriteRateLimited(w http.ResponseWriter, r *http.Request, retryAfter time.Duration) {
	corsHeadersFor(w, r, r.Method)
	w.Header().Set("Retry-After", strconv.Itoa(RetryAfterSeconds(retryAfter)))
	writeError(w, r, newError(editing.ErrWriteRateLimited))
}

// RetryAfterSeconds rounds a wait up to the whole seconds of a
// Retry-After header, at least 1.
func RetryAfterSeconds(wait time.Duration) int {
	s := int((wait + time.Second - 1) / time.Second)
	return max(s, 1)
}
