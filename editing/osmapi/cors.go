package osmapi

import "net/http"

// Cross-origin reads as cgimap allows them, so that web editors (iD) on
// another origin can read the API: every reply to a request carrying an
// Origin says which origin, methods and credentials are allowed, and a
// preflight is answered 200 (cgimap test/empty.testcore/cors_preflight.case
// and http_origin.case).

// corsMaxAge is how long a browser may cache a preflight, in seconds.
const corsMaxAge = "1728000"

func corsHeaders(w http.ResponseWriter, r *http.Request) { corsHeadersFor(w, r, allowedMethods) }

// corsHeadersFor says which methods the route allows.
func corsHeadersFor(w http.ResponseWriter, r *http.Request, methods string) {
	origin := r.Header.Get("Origin")
	if origin == "" {
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

// preflightMethods answers a preflight of a route allowing methods.
func preflightMethods(w http.ResponseWriter, r *http.Request, methods string) bool {
	if r.Header.Get("Origin") == "" || r.Header.Get("Access-Control-Request-Method") == "" {
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
