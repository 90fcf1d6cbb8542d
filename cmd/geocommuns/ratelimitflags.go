package main

import (
	"flag"

	"github.com/geocommuns/geocommuns/server"
)

// rateLimitFlags set the per-user limit on writes.
type rateLimitFlags struct {
	perMinute int
	burst     int
}

func (f *rateLimitFlags) register(fs *flag.FlagSet) {
	fs.IntVar(&f.perMinute, "write-rate", server.DefaultWriteRate, "how many writes (OSM API PUT/POST/DELETE, Connect write calls) one user may make a `minute`; more are answered 429 with Retry-After. Counted per process: each of several processes serving one dataset allows this rate. 0 disables the limit")
	fs.IntVar(&f.burst, "write-burst", server.DefaultWriteBurst, "how many writes one user may make at once before --write-rate paces them; 0 disables the limit")
}

func (f *rateLimitFlags) check() error {
	if f.perMinute < 0 {
		return usageError{msg: "--write-rate cannot be negative (0 disables the limit)"}
	}
	if f.burst < 0 {
		return usageError{msg: "--write-burst cannot be negative (0 disables the limit)"}
	}
	return nil
}
