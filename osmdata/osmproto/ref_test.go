package osmproto

import (
	"testing"

	"google.golang.org/protobuf/proto"

	geocommunsv1 "github.com/geocommuns/geocommuns/gen/geocommuns/v1"
	"github.com/geocommuns/geocommuns/osmdata"
)

// Every element type's reference survives the wire; a reference that
// names no stored element is refused.
func TestElementRefRoundTrip(t *testing.T) {
	keys := []osmdata.Key{{Type: osmdata.Node, ID: 1}, {Type: osmdata.Way, ID: 1 << 40}, {Type: osmdata.Relation, ID: 7}}
	for i, p := range KeysToProto(keys) {
		b, err := proto.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		var back geocommunsv1.ElementRef
		if err := proto.Unmarshal(b, &back); err != nil {
			t.Fatal(err)
		}
		if got, err := KeyFromProto(&back); err != nil || got != keys[i] {
			t.Errorf("%v came back as %v, %v", keys[i], got, err)
		}
	}
	if KeysToProto(nil) != nil {
		t.Error("no keys give a list")
	}
	for name, p := range map[string]*geocommunsv1.ElementRef{
		"no type":        {Id: 3},
		"unknown type":   {Type: geocommunsv1.ElementType(9), Id: 3},
		"placeholder id": {Type: geocommunsv1.ElementType_ELEMENT_TYPE_NODE, Id: -1},
		"zero id":        {Type: geocommunsv1.ElementType_ELEMENT_TYPE_WAY},
	} {
		if k, err := KeyFromProto(p); err == nil {
			t.Errorf("%s: read as %v", name, k)
		}
	}
}
