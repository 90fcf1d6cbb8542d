package replication_test

import (
	"testing"
	"time"

	"github.com/geocommuns/geocommuns/storage"
	"github.com/geocommuns/geocommuns/sync/replication"
)

// Paths as planet.openstreetmap.org names them: nine digits in three
// groups.
func TestSeqPath(t *testing.T) {
	for seq, want := range map[int64]string{1: "000/000/001", 6_123_456: "006/123/456", replication.MaxSeq: "999/999/999", 1000: "000/001/000"} {
		if got := replication.SeqPath(seq); got != want {
			t.Errorf("SeqPath(%d) = %s, want %s", seq, got, want)
		}
		var a, b, c string = want[0:3], want[4:7], want[8:11]
		if back, err := replication.ParseSeqPath(a, b, c); err != nil || back != seq {
			t.Errorf("ParseSeqPath(%s) = %d, %v; want %d", want, back, err, seq)
		}
	}
	for _, bad := range [][3]string{{"0", "000", "001"}, {"000", "000", "1"}, {"000", "00a", "001"}, {"000", "000", "0001"}, {"-00", "000", "001"}} {
		if _, err := replication.ParseSeqPath(bad[0], bad[1], bad[2]); err == nil {
			t.Errorf("ParseSeqPath(%v) accepted", bad)
		}
	}
}

// state.txt as Osmosis writes it (planet's minute/000/000/001.state.txt
// has the same two keys and escaped colons), with the merge range after.
func TestStateText(t *testing.T) {
	st := storage.ReplicationState{Seq: 6_123_456, FirstMergeSeq: 40, LastMergeSeq: 52,
		Timestamp: time.Date(2026, 11, 29, 12, 0, 5, 0, time.UTC)}
	want := "#Sun Nov 29 12:00:05 UTC 2026\n" +
		"sequenceNumber=6123456\n" +
		"timestamp=2026-11-29T12\\:00\\:05Z\n" +
		"firstMergeSeq=40\n" +
		"lastMergeSeq=52\n"
	if got := replication.StateText(st); got != want {
		t.Errorf("StateText:\n%s\nwant:\n%s", got, want)
	}
	back, err := replication.ParseStateText(want)
	if err != nil || back != st {
		t.Errorf("ParseStateText = %+v, %v; want %+v", back, err, st)
	}
	if _, err := replication.ParseStateText("#only a comment\n"); err == nil {
		t.Error("ParseStateText accepted a state without sequenceNumber")
	}
}
