package main

import (
	"flag"

	"github.com/geocommuns/geocommuns/editing/osmapi"
)

// corsFlags choose the web origins that may call the API from a browser.
type corsFlags struct {
	origins string
	policy  osmapi.CORSPolicy
}

func (c *corsFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&c.origins, "cors-origins", "", "the web `origins` (comma-separated scheme://host[:port], or * for any) whose pages may call the OSM API and exchange OAuth 2 tokens from a browser, as a web editor such as iD hosted elsewhere does; none (the default) sends no CORS headers. The review web app at /review needs none")
}

// check reads the list; a malformed origin would otherwise allow nothing
// silently.
func (c *corsFlags) check() error {
	p, err := osmapi.ParseCORSOrigins(c.origins)
	if err != nil {
		return usageError{msg: "--cors-origins: " + err.Error()}
	}
	c.policy = p
	return nil
}
