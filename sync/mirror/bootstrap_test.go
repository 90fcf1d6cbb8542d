package mirror_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/osmdata/osmfile"
	"github.com/geocommuns/geocommuns/storage"
)

// TestMirrorRecoversACrashAroundTheDumpImport: the position is recorded
// (unfinished) before the dump's import and marked after it, two
// transactions apart from the import's own. A crash before the import
// committed leaves an empty dataset, which the next run imports anew; a
// crash after it leaves the dataset, which the next run keeps and
// follows from the recorded merge.
func TestMirrorRecoversACrashAroundTheDumpImport(t *testing.T) {
	ctx := context.Background()
	src := newSource(t)
	first := src.merge(t, createNodes(3)...)
	url := src.serve(t)

	t.Run("before the import committed", func(t *testing.T) {
		replica := openSQLite(t)
		if err := replica.(storage.Mirror).BeginMirror(ctx, url, first-1); err != nil {
			t.Fatal(err)
		}
		second := src.merge(t, createNodes(1)...)
		run := startMirror(t, replica, url)
		waitPosition(t, replica, second)
		if err := run.stop(); err != nil {
			t.Fatal(err)
		}
		sameExport(t, src.store, replica)
	})

	t.Run("after the import committed", func(t *testing.T) {
		replica := openSQLite(t)
		seq, err := src.store.LastMergeSeq(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := replica.(storage.Mirror).BeginMirror(ctx, url, seq); err != nil {
			t.Fatal(err)
		}
		dump := filepath.Join(t.TempDir(), "dump.osm")
		exportTo(t, src.store, dump)
		files, err := osmfile.OpenAll([]string{dump})
		if err != nil {
			t.Fatal(err)
		}
		defer files.Close()
		if _, err := replica.Import(ctx, files); err != nil {
			t.Fatal(err)
		}
		next := src.merge(t, createNodes(1)...)
		run := startMirror(t, replica, url)
		waitPosition(t, replica, next)
		if err := run.stop(); err != nil {
			t.Fatal(err)
		}
		sameExport(t, src.store, replica)
	})

	t.Run("no geocommuns server", func(t *testing.T) {
		hs := httptest.NewServer(http.NotFoundHandler())
		t.Cleanup(hs.Close)
		select {
		case err := <-startMirror(t, openSQLite(t), hs.URL).done:
			if err == nil || !strings.Contains(err.Error(), "404") {
				t.Errorf("mirror of a server without a dump: %v", err)
			}
		case <-time.After(time.Minute):
			t.Error("a mirror waits on a server without a dump")
		}
	})

	t.Run("another source", func(t *testing.T) {
		replica := openSQLite(t)
		if err := replica.(storage.Mirror).BeginMirror(ctx, "http://elsewhere.example", 0); err != nil {
			t.Fatal(err)
		}
		select {
		case err := <-startMirror(t, replica, url).done:
			if err == nil || !strings.Contains(err.Error(), "mirrors http://elsewhere.example") {
				t.Errorf("a copy of another source follows this one: %v", err)
			}
		case <-time.After(time.Minute):
			t.Error("a copy of another source follows this one")
		}
	})
}

// exportTo writes the store's current elements as an .osm file, as the
// dump holds them.
func exportTo(t *testing.T, st storage.Store, path string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	doc := osmdata.NewXMLWriter(f, osmdata.DocumentHeader{Generator: "mirror test"})
	if err := st.Export(context.Background(), doc.WriteElement); err != nil {
		t.Fatal(err)
	}
	if err := doc.Close(); err != nil {
		t.Fatal(err)
	}
}
