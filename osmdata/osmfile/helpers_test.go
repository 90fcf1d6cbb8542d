package osmfile

import (
	"compress/gzip"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
)

func itoa(i int) string { return strconv.Itoa(i) }

func execOut(name string, args ...string) ([]byte, error) {
	return exec.Command(name, args...).CombinedOutput()
}

func gzipFile(t testing.TB, src string) string {
	t.Helper()
	in, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	p := filepath.Join(t.TempDir(), filepath.Base(src)+".gz")
	out, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	zw := gzip.NewWriter(out)
	if _, err := io.Copy(zw, in); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
	return p
}

// pbfBlocks lists a PBF's blocks by reading its framing through the same
// tracker the reader uses; the tests cut and corrupt files at these.
func pbfBlocks(t testing.TB, data []byte) []pbfBlock {
	t.Helper()
	var bt blockTracker
	bt.follow(data)
	if bt.broken || len(bt.blocks) < 10 {
		t.Fatalf("framing of the test PBF: broken=%v, %d blocks", bt.broken, len(bt.blocks))
	}
	for i := 1; i < len(bt.blocks); i++ {
		if bt.blocks[i-1].offset+bt.blocks[i-1].length != bt.blocks[i].offset {
			t.Fatalf("block %d does not end where block %d starts", i-1, i)
		}
	}
	return bt.blocks
}
