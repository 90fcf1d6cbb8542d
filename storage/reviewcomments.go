package storage

import (
	"strings"
	"unicode"
)

// CommentSpace is every character strings.TrimSpace trims (unicode's
// White_Space), for the backends' SQL trim in ReviewCommentCounts: a
// comment of these only is no comment to the discussion, which counts
// with strings.TrimSpace, and SQL's trim alone takes only the space.
var CommentSpace = func() string {
	var b strings.Builder
	for _, r := range unicode.White_Space.R16 {
		for c := rune(r.Lo); c <= rune(r.Hi); c += rune(r.Stride) {
			b.WriteRune(c)
		}
	}
	for _, r := range unicode.White_Space.R32 {
		for c := rune(r.Lo); c <= rune(r.Hi); c += rune(r.Stride) {
			b.WriteRune(c)
		}
	}
	return b.String()
}()
