package sqlite_test

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/storage"
	"github.com/geocommuns/geocommuns/storage/sqlite"
)

// backupMerges is how many changesets the writer merges around the
// backup, each creating one node.
const backupMerges = 60

// TestBackupWhileMerging backs a dataset up while another goroutine
// keeps merging into it. The backup opens as a dataset of its own and
// holds exactly the source at the backup's merge_seq: the imported
// elements and the nodes of the merges up to it, counted alike, and none
// of the merges after it. A second backup to the same place is refused,
// and no partial directory is left beside it.
func TestBackupWhileMerging(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	src := openStore(t)
	// Enough rows that VACUUM INTO takes a while, so merges commit
	// while it reads.
	bulk := fixture()
	for i := range int64(20000) {
		bulk = append(bulk, node(1000+i, 1, 40+float64(i/200)*0.001, 2+float64(i%200)*0.001, "survey", "point"))
	}
	if _, err := src.Import(ctx, &sliceSource{els: bulk}); err != nil {
		t.Fatalf("import: %v", err)
	}
	before, err := src.Counts(ctx)
	if err != nil {
		t.Fatal(err)
	}

	// Every changeset is staged and closed first, so that the dataset
	// changes during the backup only by merges.
	const uid = 77
	changesets := make([]int64, backupMerges)
	created := map[int64]int64{} // changeset → the node it creates
	for i := range changesets {
		c, err := src.CreateChangeset(ctx, storage.NewChangeset{UID: uid, User: "writer"})
		if err != nil {
			t.Fatal(err)
		}
		changesets[i] = c.ID
		err = src.Stage(ctx, c.ID, uid, func(ctx context.Context, tx storage.StageTx) error {
			ids, err := tx.AllocateIDs(ctx, osmdata.Node, 1)
			if err != nil {
				return err
			}
			created[c.ID] = ids[0]
			return tx.WritePending(ctx, []storage.PendingChange{{Action: storage.Create, Element: osmdata.Element{
				Type: osmdata.Node, ID: ids[0], Version: 1, Visible: true,
				Lat: osmdata.RoundCoordToFixed(1 + float64(i)*0.01), Lon: osmdata.RoundCoordToFixed(1)}}})
		})
		if err != nil {
			t.Fatalf("stage changeset %d: %v", c.ID, err)
		}
		if _, err := src.CloseChangeset(ctx, c.ID, uid); err != nil {
			t.Fatal(err)
		}
	}

	nodeOfSeq := map[int64]int64{}
	started := make(chan struct{})
	backedUp := make(chan struct{})
	writerDone := make(chan error, 1)
	go func() {
		for i, id := range changesets {
			if i == len(changesets)-1 {
				// At least one merge comes after the backup.
				<-backedUp
			}
			entry, err := src.Merge(ctx, id)
			if err != nil {
				writerDone <- err
				return
			}
			nodeOfSeq[entry.Seq] = created[id]
			if i == 2 {
				close(started)
			}
		}
		writerDone <- nil
	}()

	dest := filepath.Join(t.TempDir(), "backups", "first")
	<-started
	backupErr := src.Backup(ctx, dest)
	returnedAt, err := src.LastMergeSeq(ctx)
	close(backedUp)
	if err != nil {
		t.Fatal(err)
	}
	if err := <-writerDone; err != nil {
		t.Fatalf("merge beside the backup: %v", err)
	}
	if backupErr != nil {
		t.Fatalf("backup while merging: %v", backupErr)
	}

	backup, err := sqlite.Open(ctx, dest)
	if err != nil {
		t.Fatalf("open the backup: %v", err)
	}
	defer backup.Close()
	seq, err := backup.LastMergeSeq(ctx)
	if err != nil {
		t.Fatal(err)
	}
	last, err := src.LastMergeSeq(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if seq < 3 || seq >= last {
		t.Fatalf("the backup is at merge_seq %d; want one between the third merge and the last, %d", seq, last)
	}
	t.Logf("backup at merge_seq %d; %d when it returned, %d at the end", seq, returnedAt, last)

	// Merges only add nodes: the source at merge_seq seq is the source
	// now without the nodes of the later merges.
	later := map[int64]bool{}
	for s := seq + 1; s <= last; s++ {
		later[nodeOfSeq[s]] = true
	}
	var want []osmdata.Element
	err = src.Export(ctx, func(el *osmdata.Element) error {
		if !(el.Type == osmdata.Node && later[el.ID]) {
			want = append(want, *el)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	got := exportAll(t, backup)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("the backup's export differs from the source's at merge_seq %d (-source +backup):\n%s", seq, diff)
	}
	if els, err := backup.CurrentElements(ctx, osmdata.Node, []int64{nodeOfSeq[seq+1]}); err != nil || len(els) != 0 {
		t.Errorf("node %d of merge %d, after the backup: in the backup as %v (%v)", nodeOfSeq[seq+1], seq+1, els, err)
	}

	counts, err := backup.Counts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	wantCounts := before
	wantCounts.Nodes += seq
	wantCounts.Versions += seq
	wantCounts.Changesets += backupMerges
	if counts != wantCounts {
		t.Errorf("the backup counts %+v; want %+v (the import, %d changesets, %d merged)", counts, wantCounts, backupMerges, seq)
	}

	err = src.Backup(ctx, dest)
	if !errors.Is(err, fs.ErrExist) {
		t.Errorf("a second backup to %s: %v; want it refused as existing", dest, err)
	}
	entries, err := os.ReadDir(filepath.Dir(dest))
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Name() != "first" {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("beside the backup: %q; want only the backup", names)
	}
}

// TestBackupRefusesAFile: a destination that is a file is not
// overwritten either.
func TestBackupRefusesAFile(t *testing.T) {
	s := openStore(t)
	dest := filepath.Join(t.TempDir(), "precious")
	if err := os.WriteFile(dest, []byte("keep me"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := s.Backup(t.Context(), dest); !errors.Is(err, fs.ErrExist) {
		t.Errorf("backup onto a file: %v; want it refused as existing", err)
	}
	if b, err := os.ReadFile(dest); err != nil || string(b) != "keep me" {
		t.Errorf("the file after the refused backup: %q, %v", b, err)
	}
}

func exportAll(t *testing.T, s storage.Store) []osmdata.Element {
	t.Helper()
	var els []osmdata.Element
	if err := s.Export(t.Context(), func(el *osmdata.Element) error {
		els = append(els, *el)
		return nil
	}); err != nil {
		t.Fatalf("export: %v", err)
	}
	return els
}
