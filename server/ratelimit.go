package server

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"

	"github.com/geocommuns/geocommuns/auth"
	"github.com/geocommuns/geocommuns/editing"
	"github.com/geocommuns/geocommuns/editing/osmapi"
	geocommunsv1 "github.com/geocommuns/geocommuns/gen/geocommuns/v1"
)

// Per-user rate limits on writes (issue 9): every write of the OSM API
// and every Connect procedure that changes something is counted against
// the authenticated caller; over the limit it is answered 429 with
// Retry-After (Connect: resource_exhausted) before it reaches a handler.
// The buckets live in this process only: several processes serving one
// dataset each allow the rate.

// Defaults of the serve flags --write-rate and --write-burst: generous
// enough for an editor's upload session, a brake on a runaway script.
const (
	DefaultWriteRate  = 600 // writes per minute per user
	DefaultWriteBurst = 60
)

// writeLimiter is a token bucket per user: a write takes one token, and
// tokens come back at rate up to burst. golang.org/x/time/rate would do
// the same, but it is only an indirect requirement of the module, and a
// bucket is a few lines.
type writeLimiter struct {
	perToken time.Duration // time for one token to come back
	burst    float64
	now      func() time.Time

	mu      sync.Mutex
	buckets map[int64]*tokenBucket
	swept   time.Time
}

type tokenBucket struct {
	tokens float64
	at     time.Time
}

// sweepEvery is how often buckets that have refilled are forgotten: a
// full bucket is the same as none, and keeping them would grow the map
// with every user who ever wrote.
const sweepEvery = time.Minute

// newWriteLimiter allows perMinute writes a minute per user, burst at
// once; nil (no limit) when either is not positive.
func newWriteLimiter(perMinute, burst int) *writeLimiter {
	if perMinute <= 0 || burst <= 0 {
		return nil
	}
	return &writeLimiter{
		perToken: time.Minute / time.Duration(perMinute),
		burst:    float64(burst),
		now:      time.Now,
		buckets:  map[int64]*tokenBucket{},
	}
}

// take takes a token of user's bucket and returns 0, or, when the bucket
// is empty, takes nothing and returns how long until a token is back.
func (l *writeLimiter) take(user int64) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	if now.Sub(l.swept) >= sweepEvery {
		for id, b := range l.buckets {
			if l.refilled(b, now) >= l.burst {
				delete(l.buckets, id)
			}
		}
		l.swept = now
	}
	b, ok := l.buckets[user]
	if !ok {
		b = &tokenBucket{tokens: l.burst, at: now}
		l.buckets[user] = b
	}
	b.tokens, b.at = l.refilled(b, now), now
	if b.tokens >= 1 {
		b.tokens--
		return 0
	}
	return time.Duration((1 - b.tokens) * float64(l.perToken))
}

// refilled is what b holds at now.
func (l *writeLimiter) refilled(b *tokenBucket, now time.Time) float64 {
	return min(l.burst, b.tokens+float64(now.Sub(b.at))/float64(l.perToken))
}

// connectWrites are the paths of the Connect procedures that change
// something: those not declared idempotency_level = NO_SIDE_EFFECTS in
// proto/, so that a write procedure added later is limited without a
// change here. Server streams (Subscribe) are feeds, not writes.
var connectWrites = func() map[string]bool {
	writes := map[string]bool{}
	pkg := geocommunsv1.File_geocommuns_v1_changeset_service_proto.Package()
	protoregistry.GlobalFiles.RangeFilesByPackage(pkg, func(f protoreflect.FileDescriptor) bool {
		for i := range f.Services().Len() {
			svc := f.Services().Get(i)
			for j := range svc.Methods().Len() {
				m := svc.Methods().Get(j)
				if m.IsStreamingServer() && !m.IsStreamingClient() {
					continue
				}
				opts, _ := m.Options().(*descriptorpb.MethodOptions)
				if opts.GetIdempotencyLevel() == descriptorpb.MethodOptions_NO_SIDE_EFFECTS {
					continue
				}
				writes["/"+string(svc.FullName())+"/"+string(m.Name())] = true
			}
		}
		return true
	})
	return writes
}()

// isWrite says whether r changes the dataset: a PUT, POST or DELETE of
// the OSM API, or a Connect write procedure.
func isWrite(r *http.Request) bool {
	if strings.HasPrefix(r.URL.Path, "/api/") {
		switch r.Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions:
			return false
		}
		return true
	}
	return r.Method == http.MethodPost && connectWrites[r.URL.Path]
}

// limitWrites refuses the writes of a user over Config.WriteRate. It sits
// below the authentication middleware, which puts the caller in the
// context; anonymous writes go on, for the handlers to refuse with their
// own 401.
func (s *Server) limitWrites(next http.Handler) http.Handler {
	limiter := newWriteLimiter(s.cfg.WriteRate, s.cfg.WriteBurst)
	if limiter == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := auth.FromContext(r.Context())
		if id == nil || !isWrite(r) {
			next.ServeHTTP(w, r)
			return
		}
		wait := limiter.take(id.UserID)
		if wait == 0 {
			next.ServeHTTP(w, r)
			return
		}
		// The route the request was for, for the request log and metrics.
		_, r.Pattern = s.mux.Handler(r)
		s.logger.Info("write refused: over the user's rate limit", "user", id.UserID, "path", r.URL.Path, "retry_after", wait)
		if strings.HasPrefix(r.URL.Path, connectRoutes) {
			writeConnectExhausted(w, r, wait)
			return
		}
		osmapi.WriteRateLimited(w, r, wait)
	})
}

// writeConnectExhausted answers a Connect, gRPC or gRPC-Web call over the
// limit with resource_exhausted, the OSM API's text and the delay.
func writeConnectExhausted(w http.ResponseWriter, r *http.Request, wait time.Duration) {
	seconds := osmapi.RetryAfterSeconds(wait)
	msg := fmt.Sprintf("%s Retry after %d s.", editing.Golden[editing.ErrWriteRateLimited].Text, seconds)
	h := w.Header()
	h.Set("Retry-After", strconv.Itoa(seconds))
	if ct := r.Header.Get("Content-Type"); strings.HasPrefix(ct, "application/grpc") {
		// gRPC and gRPC-Web: a trailers-only answer, the status in the
		// headers of a 200.
		h.Set("Content-Type", ct)
		h.Set("Grpc-Status", "8")
		h.Set("Grpc-Message", url.PathEscape(msg))
		w.WriteHeader(http.StatusOK)
		return
	}
	h.Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusTooManyRequests)
	_ = json.NewEncoder(w).Encode(map[string]string{"code": "resource_exhausted", "message": msg})
}
