package main

import (
	"flag"
	"time"

	"github.com/geocommuns/geocommuns/editing"
	"github.com/geocommuns/geocommuns/editing/osmapi"
	"github.com/geocommuns/geocommuns/osmdata/osmchange"
	"github.com/geocommuns/geocommuns/server"
)

// limitFlags set the limits on what one client may send (README,
// "Limits"), beside --max-upload-bytes and the write rate's flags.
type limitFlags struct {
	inflateRatio      int
	xmlElements       int
	tags              int
	relationMembers   int
	openChangesets    int
	readHeaderTimeout time.Duration
	bodyReadTimeout   time.Duration
}

func (f *limitFlags) register(fs *flag.FlagSet) {
	fs.IntVar(&f.inflateRatio, "max-inflate-ratio", osmapi.DefaultMaxInflateRatio, "how many `times` its compressed size a gzip or deflate request body may inflate to; more is answered 413 (gzip bombs)")
	fs.IntVar(&f.xmlElements, "max-xml-elements", osmchange.DefaultMaxElements, "the most XML `elements` one request body may hold; more is answered 413")
	fs.IntVar(&f.tags, "max-tags", osmchange.DefaultMaxTags, "the most `tags` one element may have; more is answered 400")
	fs.IntVar(&f.relationMembers, "max-relation-members", editing.DefaultMaxRelationMembers, "the most `members` one relation may have, as the capabilities document announces; more is answered 400")
	fs.IntVar(&f.openChangesets, "max-open-changesets", editing.DefaultMaxOpenChangesets, "the most changesets one user may have open at once; creating one more is answered 429. 0 disables the limit")
	fs.DurationVar(&f.readHeaderTimeout, "read-header-timeout", server.DefaultReadHeaderTimeout, "how long a client may take to send a request's headers before the connection is closed")
	fs.DurationVar(&f.bodyReadTimeout, "body-read-timeout", server.DefaultBodyReadTimeout, "how long a client may take to send a request's body once its headers arrived; a slower upload is answered 408")
}

func (f *limitFlags) check() error {
	positive := []struct {
		name  string
		value int
	}{{"--max-inflate-ratio", f.inflateRatio}, {"--max-xml-elements", f.xmlElements}, {"--max-tags", f.tags},
		{"--max-relation-members", f.relationMembers}}
	for _, p := range positive {
		if p.value < 1 {
			return usageError{msg: p.name + " must be at least 1"}
		}
	}
	if f.openChangesets < 0 {
		return usageError{msg: "--max-open-changesets cannot be negative (0 disables the limit)"}
	}
	if f.readHeaderTimeout <= 0 || f.bodyReadTimeout <= 0 {
		return usageError{msg: "--read-header-timeout and --body-read-timeout must be positive"}
	}
	return nil
}

// apply sets the limits on cfg.
func (f *limitFlags) apply(cfg *server.Config) {
	cfg.MaxInflateRatio = f.inflateRatio
	cfg.MaxXMLElements = f.xmlElements
	cfg.MaxTags = f.tags
	cfg.MaxRelationMembers = f.relationMembers
	cfg.MaxOpenChangesets = f.openChangesets
	if f.openChangesets == 0 {
		cfg.MaxOpenChangesets = -1 // the server's zero is the default
	}
	cfg.ReadHeaderTimeout = f.readHeaderTimeout
	cfg.BodyReadTimeout = f.bodyReadTimeout
}
