package webapp

import (
	"embed"
	"io/fs"
	"net/http"
	"strings"
)

// dist is the front end as web/'s npm build leaves it (index.html and
// assets/ with hashed names); all: keeps files whose names start with
// a dot or an underscore, which bundlers make.
//
//go:embed all:dist
var dist embed.FS

func distFS() fs.FS {
	sub, err := fs.Sub(dist, "dist")
	if err != nil {
		// fs.Sub fails only on an invalid path, and "dist" is a literal.
		panic(err)
	}
	return sub
}

// pageHeaders are set on the pages: no framing (a framed page could be
// driven by clicks and keys into a decision), no guessing of types, and
// the content security policy (csp.go).
func (a *App) pageHeaders(h http.Header) {
	h.Set("Content-Security-Policy", a.csp)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "same-origin")
}

// index serves the app; it is small and names the hashed assets of the
// current build, so it is never cached.
func (a *App) index(w http.ResponseWriter, r *http.Request) {
	page, err := fs.ReadFile(distFS(), "index.html")
	if err != nil {
		http.Error(w, "the review web app was built without its index.html", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	a.pageHeaders(h)
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-cache")
	_, _ = w.Write(page)
}

// assets serves the built files under /review/. Those under assets/
// have content hashes in their names, so they may be cached for good.
func (a *App) assets() http.Handler {
	files := http.StripPrefix("/review/", http.FileServerFS(distFS()))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/review/api/") {
			writeError(w, http.StatusNotFound, "no route "+r.Method+" "+r.URL.Path)
			return
		}
		a.pageHeaders(w.Header())
		if strings.HasPrefix(r.URL.Path, "/review/assets/") {
			w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		} else {
			w.Header().Set("Cache-Control", "no-cache")
		}
		files.ServeHTTP(w, r)
	})
}
