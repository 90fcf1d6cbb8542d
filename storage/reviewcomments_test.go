package storage

import (
	"strings"
	"testing"
	"unicode"
)

// The backends trim CommentSpace where the discussion uses
// strings.TrimSpace: they must take exactly the same characters.
func TestCommentSpaceIsWhatTrimSpaceTrims(t *testing.T) {
	for r := rune(0); r <= unicode.MaxRune; r++ {
		if in, trimmed := strings.ContainsRune(CommentSpace, r), strings.TrimSpace(string(r)) == ""; in != trimmed {
			t.Errorf("%U: in CommentSpace %v, trimmed by strings.TrimSpace %v", r, in, trimmed)
		}
	}
}
