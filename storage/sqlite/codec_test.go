package sqlite

import (
	"encoding/json"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"github.com/geocommuns/geocommuns/osmdata"
)

// The hand-written JSON must be JSON as SQLite's json_each and any other
// reader see it: checked here against encoding/json in both directions.

func FuzzTagsRoundTrip(f *testing.F) {
	for _, s := range []string{"", "plain", `"quoted"`, `back\slash`, "new\nline", "\x00\x1f\x7f",
		"Zürich", "東京", "🗺", "<&>", "\u2028", "a\\u0041"} {
		f.Add(s, s+"!")
	}
	f.Fuzz(func(t *testing.T, key, value string) {
		if !utf8.ValidString(key) || !utf8.ValidString(value) {
			t.Skip("OSM text is UTF-8")
		}
		tags := osmdata.Tags{{Key: key, Value: value}, {Key: "z", Value: "a"}}
		ours := appendTags(nil, tags)
		var std [][]string
		if err := json.Unmarshal(ours, &std); err != nil {
			t.Fatalf("encoding/json rejects %q: %v", ours, err)
		}
		if want := [][]string{{key, value}, {"z", "a"}}; !cmp.Equal(std, want) {
			t.Fatalf("encoding/json reads %q as %q, want %q", ours, std, want)
		}
		back, err := decodeTags(ours)
		if err != nil || !cmp.Equal(back, tags) {
			t.Fatalf("decodeTags(%q) = %q, %v; want %q", ours, back, err, tags)
		}
		theirs, _ := json.Marshal(std) // escapes <, >, & and U+2028 unlike ours
		back, err = decodeTags(theirs)
		if err != nil || !cmp.Equal(back, tags) {
			t.Fatalf("decodeTags(%q) = %q, %v; want %q", theirs, back, err, tags)
		}
	})
}

func TestListsRoundTrip(t *testing.T) {
	ids := []int64{1, -2, 12_000_000_123, 0, 1 << 53}
	if got, err := decodeIDs(appendIDs(nil, ids)); err != nil || !cmp.Equal(got, ids) {
		t.Errorf("ids round trip = %v, %v; want %v", got, err, ids)
	}
	if got, err := decodeIDs([]byte(" [ 1 , 2 ] ")); err != nil || !cmp.Equal(got, []int64{1, 2}) {
		t.Errorf("ids with whitespace = %v, %v", got, err)
	}
	members := []osmdata.Member{
		{Type: osmdata.Way, Ref: 2_200_000_001, Role: "outer"},
		{Type: osmdata.Node, Ref: 1, Role: `"\` + "\n"},
		{Type: osmdata.Relation, Ref: 3, Role: ""},
	}
	enc := appendMembers(nil, members)
	if !json.Valid(enc) {
		t.Errorf("members %q are not JSON", enc)
	}
	if got, err := decodeMembers(enc); err != nil || !cmp.Equal(got, members) {
		t.Errorf("members round trip = %v, %v; want %v", got, err, members)
	}
	if got, err := decodeMembers([]byte("[]")); err != nil || len(got) != 0 {
		t.Errorf("no members = %v, %v", got, err)
	}
	if got, err := decodeTags(nil); err != nil || got != nil {
		t.Errorf("NULL tags = %v, %v; want none", got, err)
	}
}

func TestMalformedListsAreErrors(t *testing.T) {
	for _, bad := range []string{`[`, `[1,]`, `[1 2]`, `[1]x`, `["a"]`, `[99999999999999999999]`} {
		if got, err := decodeIDs([]byte(bad)); err == nil {
			t.Errorf("decodeIDs(%q) = %v, want an error", bad, got)
		}
	}
	for _, bad := range []string{`[["k"]]`, `[["k","v"`, `[["k",1]]`, `[["k","\x"]]`, `[["k","\u12"]]`} {
		if got, err := decodeTags([]byte(bad)); err == nil {
			t.Errorf("decodeTags(%q) = %v, want an error", bad, got)
		}
	}
	for _, bad := range []string{`[[4,1,""]]`, `[[1,1]]`, `[[1,"1",""]]`} {
		if got, err := decodeMembers([]byte(bad)); err == nil {
			t.Errorf("decodeMembers(%q) = %v, want an error", bad, got)
		}
	}
}
