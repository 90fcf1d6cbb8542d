package main

import (
	"context"
	"fmt"
	"io"
	"sync/atomic"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/osmdata/osmfile"
	"github.com/geocommuns/geocommuns/storage"
)

func runImport(ctx context.Context, e *env, args []string) error {
	var sf storeFlags
	fs := newFlagSet(e, "import", " FILE…",
		"Loads .osm.pbf, .osm, .osm.bz2 and .osm.gz files as the initial dataset, all or nothing.\n"+
			"Several files are merged in OSM order; each must be sorted by type, then id.\n"+
			"A dataset that already has elements, an osmChange file, a history file and a corrupt\n"+
			"or truncated file are refused, and the dataset is left as it was.")
	sf.register(fs)
	if err := parseFlags(fs, e, args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return usageError{msg: "no file to import"}
	}
	store, err := sf.open(ctx)
	if err != nil {
		return err
	}
	defer store.Close()

	start := time.Now()
	res, err := importFiles(ctx, e, store, fs.Args())
	if err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, importSummary(res, fs.NArg(), time.Since(start)))
	return nil
}

// importFiles merges the files into one stream and imports it, drawing a
// progress bar on stderr when it is a terminal.
func importFiles(ctx context.Context, e *env, store storage.Store, paths []string) (storage.ImportResult, error) {
	// The reader's and the store's errors name the file, the position
	// and the step; they are passed on as they are.
	files, err := osmfile.OpenAll(paths)
	if err != nil {
		return storage.ImportResult{}, err
	}
	defer files.Close()
	src := &countingSource{src: files}

	var stopProgress func(ok bool)
	if e.stderrTerminal {
		stopProgress = showProgress(e.stderr, files, src)
	}
	res, err := store.Import(ctx, src)
	if stopProgress != nil {
		stopProgress(err == nil)
	}
	return res, err
}

// countingSource counts the elements read, for the progress bar.
type countingSource struct {
	src  storage.ElementSource
	read atomic.Int64
}

func (c *countingSource) Next() (*osmdata.Element, error) {
	el, err := c.src.Next()
	if err == nil {
		c.read.Add(1)
	}
	return el, err
}

// progressInterval is how often the bar is redrawn.
const progressInterval = 200 * time.Millisecond

// showProgress draws a bar of the bytes read, whose rate gives the ETA,
// described by the elements read and their rate. The returned function
// stops it.
func showProgress(w io.Writer, files *osmfile.MultiReader, src *countingSource) func(ok bool) {
	_, total := files.Progress()
	bar := progressbar.NewOptions64(total,
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionSetElapsedTime(true),
		progressbar.OptionShowDescriptionAtLineEnd(),
		progressbar.OptionSetWidth(30),
		progressbar.OptionThrottle(progressInterval),
		progressbar.OptionSetRenderBlankState(true),
	)
	start := time.Now()
	done := make(chan struct{})
	stopped := make(chan struct{})
	update := func() {
		read, _ := files.Progress()
		_ = bar.Set64(read)
		n := src.read.Load()
		bar.Describe(fmt.Sprintf("%d elements, %s elements/s", n, rate(n, time.Since(start))))
	}
	go func() {
		defer close(stopped)
		tick := time.NewTicker(progressInterval)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				update()
			}
		}
	}()
	return func(ok bool) {
		close(done)
		<-stopped
		if ok {
			update()
			_ = bar.Finish()
		} else {
			_ = bar.Exit()
		}
		fmt.Fprintln(w)
	}
}
