package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// A basemap the map could not load tiles from is refused before serve
// opens anything, naming the flag.
func TestServeRefusesABadBasemap(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	for _, args := range [][]string{
		{"--basemap", "tiles.example.org/{z}/{x}/{y}.png"},
		{"--basemap", "https://tiles.example.org/{z}/{x}.png"},
		{"--basemap-attribution", "IGN"},
	} {
		code, _, stderr := runInProcess(nil, append([]string{"serve", "--data", data}, args...)...)
		if code != exitUsage || !strings.Contains(stderr, "--basemap") {
			t.Errorf("serve %v: exit %d, stderr %q; want %d naming --basemap", args, code, stderr, exitUsage)
		}
	}
}
