package postgres

import (
	"os"
	"os/exec"
	"regexp"
	"testing"
)

// parallelReadsVariable makes this test binary read every merge's plan
// inputs on a second connection (parallelReadsFrom = 0), as it does only
// for large changesets otherwise, which the conformance suite has none
// of.
const parallelReadsVariable = "GEOCOMMUNS_TEST_MERGE_PARALLEL_READS"

func init() {
	if os.Getenv(parallelReadsVariable) != "" {
		parallelReadsFrom = 0
	}
}

// The conformance suite's merge parts, run again with every merge reading
// on its own connection while the writes ahead of the plan run on the
// transaction's. A child process, so that the setting holds for that
// run only.
func TestMergeConformanceWithParallelReads(t *testing.T) {
	testURL(t)
	if os.Getenv(parallelReadsVariable) != "" {
		t.Skip("this is the child: it runs the suite itself")
	}
	cmd := exec.Command(os.Args[0], "-test.run", "^TestConformance$/Merge", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), parallelReadsVariable+"=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("conformance merge tests with parallel reads: %v\n%s", err, out)
	}
	if n := len(regexp.MustCompile(`(?m)--- PASS: TestConformance/Merge/`).FindAll(out, -1)); n < 5 {
		t.Fatalf("the child ran %d merge tests, want the suite's:\n%s", n, out)
	}
}
