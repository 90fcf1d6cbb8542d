package osmproto

import (
	"fmt"

	geocommunsv1 "github.com/geocommuns/geocommuns/gen/geocommuns/v1"
	"github.com/geocommuns/geocommuns/osmdata"
)

// KeyToProto names one element on the wire.
func KeyToProto(k osmdata.Key) *geocommunsv1.ElementRef {
	return &geocommunsv1.ElementRef{Type: TypeToProto(k.Type), Id: k.ID}
}

// KeysToProto keeps the keys' order; no keys give nil.
func KeysToProto(keys []osmdata.Key) []*geocommunsv1.ElementRef {
	if len(keys) == 0 {
		return nil
	}
	out := make([]*geocommunsv1.ElementRef, len(keys))
	for i, k := range keys {
		out[i] = KeyToProto(k)
	}
	return out
}

// KeyFromProto reads an element reference a client sent: an unknown type
// or an id that no element has (zero or negative: placeholders exist only
// within an upload) is an error, so that a request naming nothing real is
// refused rather than matched against nothing.
func KeyFromProto(p *geocommunsv1.ElementRef) (osmdata.Key, error) {
	t, ok := TypeFromProto(p.GetType())
	if !ok {
		return osmdata.Key{}, fmt.Errorf("element %d: unknown element type %v", p.GetId(), p.GetType())
	}
	if p.GetId() <= 0 {
		return osmdata.Key{}, fmt.Errorf("%s %d: ids of stored elements are positive", t, p.GetId())
	}
	return osmdata.Key{Type: t, ID: p.GetId()}, nil
}
