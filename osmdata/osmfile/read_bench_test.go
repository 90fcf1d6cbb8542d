package osmfile

import (
	"context"
	"io"
	"os"
	"runtime"
	"testing"

	"github.com/paulmach/osm/osmpbf"
)

func benchmarkRead(b *testing.B, rel string, want int) {
	p := realFile(b, rel)
	st, err := os.Stat(p)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(st.Size())
	for b.Loop() {
		r, err := Open(p)
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		for {
			_, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			n++
		}
		r.Close()
		if n != want {
			b.Fatalf("read %d elements, want %d", n, want)
		}
	}
}

func BenchmarkReadPBF(b *testing.B) {
	benchmarkRead(b, "testdata/delaware-latest.osm.pbf", 723870+73144+1644)
}

func BenchmarkReadXMLBzip2(b *testing.B) {
	benchmarkRead(b, "testdata/andorra-latest.osm.bz2", 203265+9080+233)
}

// The baseline: osmpbf.Scanner alone, without conversion and checks, in
// the same run.
func BenchmarkReadPBFBaselineScanner(b *testing.B) {
	p := realFile(b, "testdata/delaware-latest.osm.pbf")
	st, err := os.Stat(p)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(st.Size())
	for b.Loop() {
		f, err := os.Open(p)
		if err != nil {
			b.Fatal(err)
		}
		s := osmpbf.New(context.Background(), f, min(runtime.GOMAXPROCS(0), 4))
		n := 0
		for s.Scan() {
			n++
		}
		if err := s.Err(); err != nil {
			b.Fatal(err)
		}
		s.Close()
		f.Close()
		if n != 723870+73144+1644 {
			b.Fatalf("scanned %d elements", n)
		}
	}
}
