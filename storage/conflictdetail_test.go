package storage_test

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/storage"
)

func TestConflictDetailRoundTrip(t *testing.T) {
	base := osmdata.Element{Type: osmdata.Relation, ID: 20, Version: 1, Visible: true, Changeset: 1001,
		Timestamp: time.Date(2019, 3, 14, 15, 9, 26, 0, time.UTC), UID: 1, User: "alice",
		Tags:    osmdata.Tags{{Key: "type", Value: "route"}, {Key: "name", Value: "Pirineus \"GR 11\""}},
		Members: []osmdata.Member{{Type: osmdata.Way, Ref: 10, Role: ""}, {Type: osmdata.Node, Ref: 3, Role: "stop"}}}
	pending := base
	pending.Version, pending.UID, pending.User = 2, 7, "ana"
	// An upload time keeps its fraction on the pending row.
	pending.Timestamp = time.Date(2026, 11, 29, 22, 0, 1, 500_000_000, time.FixedZone("CET", 3600))
	pending.Members = []osmdata.Member{{Type: osmdata.Way, Ref: 10}}
	line := storage.MergeConflict{Element: base.Key(), Kind: storage.ConflictEdited, BaseVersion: 1,
		Fields: []storage.ConflictField{
			{Kind: "deleted", AbsentInCurrent: true},
			{Kind: "members", Base: "way 10, node 3 stop", Pending: "way 10", AbsentInCurrent: true},
			{Kind: "tag", Key: "note", Current: "", AbsentInBase: true, AbsentInPending: true},
		},
		Base: &base, Pending: &pending}

	encoded, err := storage.EncodeConflictDetail(line)
	if err != nil || encoded == "" {
		t.Fatalf("EncodeConflictDetail = %q, %v; want a detail", encoded, err)
	}
	got := storage.MergeConflict{Element: line.Element, Kind: line.Kind, BaseVersion: 1}
	if err := storage.DecodeConflictDetail(encoded, &got); err != nil {
		t.Fatalf("DecodeConflictDetail(%s): %v", encoded, err)
	}
	if diff := cmp.Diff(line, got); diff != "" {
		t.Errorf("round trip (-encoded +decoded):\n%s", diff)
	}
	if got.Current != nil {
		t.Errorf("an absent current content came back as %v", got.Current)
	}

	plain := storage.MergeConflict{Element: base.Key(), Kind: storage.ConflictBaseMoved, Message: "base moved"}
	if encoded, err := storage.EncodeConflictDetail(plain); err != nil || encoded != "" {
		t.Errorf("EncodeConflictDetail of a line without detail = %q, %v; want \"\"", encoded, err)
	}
	if err := storage.DecodeConflictDetail("", &got); err != nil || got.Fields != nil || got.Base != nil || got.Pending != nil {
		t.Errorf("DecodeConflictDetail(\"\") left %+v, %v; want no detail", got, err)
	}
	if err := storage.DecodeConflictDetail(`{"fields":`, &got); err == nil {
		t.Error("DecodeConflictDetail of a cut detail: no error")
	}
}
