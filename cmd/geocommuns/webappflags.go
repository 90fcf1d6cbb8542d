package main

import (
	"flag"
	"fmt"
	"net/url"
	"strings"

	"github.com/geocommuns/geocommuns/server"
)

// webappFlags choose the review web app's basemap.
type webappFlags struct {
	basemap     string
	attribution string
}

func (w *webappFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&w.basemap, "basemap", "", "the raster tile `URL` template the review web app (/review/) draws under changesets, with {z}, {x} and {y} (an IGN Géoplateforme or OpenStreetMap tile service, for example); none draws no basemap, and the pages need nothing outside the server")
	fs.StringVar(&w.attribution, "basemap-attribution", "", "the basemap's credit `text`, shown on the review web app's map")
}

// check refuses a template the map could not load tiles from.
func (w *webappFlags) check() error {
	if w.basemap == "" {
		if w.attribution != "" {
			return usageError{msg: "--basemap-attribution credits a basemap: give --basemap too"}
		}
		return nil
	}
	u, err := url.Parse(w.basemap)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return usageError{msg: fmt.Sprintf("--basemap %q: want an http(s) URL template", w.basemap)}
	}
	for _, p := range []string{"{z}", "{x}", "{y}"} {
		if !strings.Contains(w.basemap, p) {
			return usageError{msg: fmt.Sprintf("--basemap %q lacks %s: want a tile URL template with {z}, {x} and {y}", w.basemap, p)}
		}
	}
	return nil
}

func (w *webappFlags) config() server.WebappConfig {
	return server.WebappConfig{Basemap: w.basemap, Attribution: w.attribution}
}
