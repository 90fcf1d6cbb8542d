package storage_test

import (
	"strings"
	"testing"

	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/storage"
)

// A long report is summed up on one line, its first conflicts named.
func TestConflictSummary(t *testing.T) {
	var conflicts []storage.MergeConflict
	for i := range 8 {
		conflicts = append(conflicts, storage.MergeConflict{Element: osmdata.Key{Type: osmdata.Node, ID: int64(12 + i)},
			Kind: storage.ConflictBaseMoved, BaseVersion: 3, CurrentVersion: 4})
	}
	conflicts[1] = storage.MergeConflict{Element: osmdata.Key{Type: osmdata.Way, ID: 5}, Kind: storage.ConflictMissingReference,
		Message: "uses node 7,\nwhich is not visible"}
	got := storage.ConflictSummary(conflicts)
	want := "node 12: base moved from v3 to v4; way 5: uses node 7, which is not visible; node 14: base moved from v3 to v4; " +
		"node 15: base moved from v3 to v4; node 16: base moved from v3 to v4; and 3 more"
	if got != want {
		t.Errorf("ConflictSummary = %q\nwant %q", got, want)
	}
	long := []storage.MergeConflict{{Element: osmdata.Key{Type: osmdata.Way, ID: 1}, Kind: storage.ConflictTagTooLong,
		Message: strings.Repeat("é", 400)}}
	if got := storage.ConflictSummary(long); len(got) > 500 || !strings.HasSuffix(got, "…") || !strings.HasPrefix(got, "way 1: éé") {
		t.Errorf("ConflictSummary of a long message: %d bytes, %q…", len(got), got[:min(len(got), 40)])
	}
}
