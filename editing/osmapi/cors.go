package osmapi

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// Cross-origin calls, off unless the operator allows origins: a browser
// page of another origin may then call the API as cgimap lets web editors
// (iD) do, every reply to a request carrying an allowed Origin saying
// which origin, methods and credentials are allowed, and a preflight
// answered 200 (cgimap test/empty.testcore/cors_preflight.case and
// http_origin.case). With no origin allowed, replies carry no CORS
// header and a preflight is an ordinary OPTIONS request (405), so a
// page elsewhere cannot read what the API answers its visitor's browser.

// corsMaxAge is how long a browser may cache a preflight, in seconds.
const corsMaxAge = "1728000"

// CORSPolicy is which web origins may call the API from a browser. The
// zero value allows none.
type CORSPolicy struct {
	anyOrigin bool
	origins   map[string]bool
}

// AnyOrigin allows every origin, as cgimap does on openstreetmap.org.
var AnyOrigin = CORSPolicy{anyOrigin: true}

// ParseCORSOrigins reads a comma-separated list of origins
// ("https://ideditor.example,https://editor.example:8443"), or "*" for
// every origin; an empty list allows none.
func ParseCORSOrigins(list string) (CORSPolicy, error) {
	list = strings.TrimSpace(list)
	switch list {
	case "":
		return CORSPolicy{}, nil
	case "*":
		return AnyOrigin, nil
	}
	p := CORSPolicy{origins: map[string]bool{}}
	for _, o := range strings.Split(list, ",") {
		o = strings.TrimSpace(o)
		u, err := url.Parse(o)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" ||
			(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
			return CORSPolicy{}, fmt.Errorf("CORS origin %q: want scheme://host[:port], as a browser sends it in Origin, or * alone", o)
		}
		// Browsers send an origin in lower case and without a slash.
		p.origins[strings.ToLower(u.Scheme+"://"+u.Host)] = true
	}
	return p, nil
}

// Allows says whether a page of origin may call the API.
func (p CORSPolicy) Allows(origin string) bool {
	return origin != "" && (p.anyOrigin || p.origins[origin])
}

type corsPolicyKey struct{}

// Handler makes p the policy of every request next serves. It wraps the
// whole server rather than the API's routes, since some answers carrying
// CORS headers are written before the routes (credentials rejected, the
// write rate limit).
func (p CORSPolicy) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), corsPolicyKey{}, p)))
	})
}

// corsPolicyOf is the policy a request is served under; none allows no
// origin.
func corsPolicyOf(r *http.Request) CORSPolicy {
	p, _ := r.Context().Value(corsPolicyKey{}).(CORSPolicy)
	return p
}

func corsHeaders(w http.ResponseWriter, r *http.Request) { corsHeadersFor(w, r, allowedMethods) }

// corsHeadersFor says which methods the route allows, to an allowed
// origin only.
func corsHeadersFor(w http.ResponseWriter, r *http.Request, methods string) {
	origin := r.Header.Get("Origin")
	if !corsPolicyOf(r).Allows(origin) {
		return
	}
	h := w.Header()
	h.Set("Access-Control-Allow-Credentials", "true")
	h.Set("Access-Control-Allow-Methods", methods)
	h.Set("Access-Control-Allow-Origin", origin)
	h.Set("Access-Control-Max-Age", corsMaxAge)
}

// preflight answers an OPTIONS request that is a CORS preflight, and
// reports whether it was one.
func preflight(w http.ResponseWriter, r *http.Request) bool {
	return preflightMethods(w, r, allowedMethods)
}

// preflightMethods answers a preflight of a route allowing methods, from
// an allowed origin; other OPTIONS requests are left to the caller.
func preflightMethods(w http.ResponseWriter, r *http.Request, methods string) bool {
	if !corsPolicyOf(r).Allows(r.Header.Get("Origin")) || r.Header.Get("Access-Control-Request-Method") == "" {
		return false
	}
	corsHeadersFor(w, r, methods)
	if headers := r.Header.Get("Access-Control-Request-Headers"); headers != "" {
		w.Header().Set("Access-Control-Allow-Headers", headers)
	}
	w.Header().Set("Content-Type", "text/plain")
	w.WriteHeader(http.StatusOK)
	return true
}

func (a *API) withCORS(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		corsHeaders(w, r)
		h.ServeHTTP(w, r)
	})
}

// withCORSMethods is withCORS for a route allowing methods.
func (a *API) withCORSMethods(methods string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		corsHeadersFor(w, r, methods)
		h.ServeHTTP(w, r)
	})
}
