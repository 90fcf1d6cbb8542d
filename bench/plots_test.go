package bench

import (
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The plots are SVG a browser opens: well-formed XML with an svg root,
// one per latency distribution and per size series, and their legends
// name each line.
func TestWritePlots(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "plots")
	rows := []Result{
		{Scenario: "feed 20 merges × 10", Backend: "sqlite", Metric: "commit → NATS subscriber p50", Unit: "ms", Value: 1,
			Samples: []float64{0, 0.5, 1, 1.2, 3, 20}},
		{Scenario: "feed 20 merges × 10", Backend: "sqlite", Metric: "commit → NATS subscriber p99", Unit: "ms", Value: 20},
		{Scenario: "stage 100 creates", Backend: "sqlite", Metric: "elements/s", Unit: "el/s", Value: 20000, Series: "stage creates", Size: 100},
		{Scenario: "stage 1,000 creates", Backend: "sqlite", Metric: "elements/s", Unit: "el/s", Value: 60000, Series: "stage creates", Size: 1000},
		{Scenario: "stage 10,000 creates", Backend: "sqlite", Metric: "elements/s", Unit: "el/s", Value: 90000, Series: "stage creates", Size: 10000},
		// One size only: no line to draw, so no plot.
		{Scenario: "import andorra", Backend: "sqlite", Metric: "elements/s", Unit: "el/s", Value: 1e5, Series: "import", Size: 3e5},
	}
	files, err := writePlots(dir, rows)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"feed-20-merges-10-latency.svg": "sqlite: commit → NATS subscriber (6)",
		"stage-creates-throughput.svg":  "sqlite: elements/s",
	}
	if len(files) != len(want) {
		t.Fatalf("plots %+v, want %d", files, len(want))
	}
	for _, f := range files {
		legend, ok := want[f.Name]
		if !ok {
			t.Errorf("unexpected plot %s", f.Name)
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, f.Name))
		if err != nil {
			t.Fatal(err)
		}
		var root struct{ XMLName xml.Name }
		if err := xml.Unmarshal(data, &root); err != nil || root.XMLName.Local != "svg" {
			t.Errorf("%s is not an SVG document (root %v): %v", f.Name, root.XMLName, err)
		}
		if !strings.Contains(string(data), legend) || !strings.Contains(string(data), f.Title) {
			t.Errorf("%s lacks its legend %q or title %q", f.Name, legend, f.Title)
		}
	}
}
