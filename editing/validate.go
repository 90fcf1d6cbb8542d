package editing

import (
	"unicode/utf8"

	"github.com/geocommuns/geocommuns/osmdata"
)

// checkTag refuses a key or value over MaxStringLength characters
// (Unicode characters, as cgimap and Rails count them).
func checkTag(t osmdata.Tag, key *osmdata.Key) error {
	if utf8.RuneCountInString(t.Key) > MaxStringLength {
		return newError(ErrKeyTooLong, key, t.Key)
	}
	if utf8.RuneCountInString(t.Value) > MaxStringLength {
		return newError(ErrValueTooLong, key, t.Key)
	}
	return nil
}
