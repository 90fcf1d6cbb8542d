package storagetest

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// childEnv marks the re-executed test binary of the negative control.
const childEnv = "GEOCOMMUNS_STORAGETEST_CHILD"

// controlled are the parts of the suite the negative control runs in its
// children: those its faults must break, and nothing slower.
var controlled = []string{"History", "NodesInBox", "Map", "Rollback/ApplyVersionConflict", "Concurrency/ReadsSeeAllOrNothing",
	"Staging/Rollback", "Staging/Overlay"}

// RunNegativeControl shows that Run can fail: it runs the suite's
// controlled parts in child processes, once with each fault (which must
// fail, naming the subtests expected to) and once without (which must
// pass). Call it from its own test function; see the package comment.
func RunNegativeControl(t *testing.T, open Opener) {
	if os.Getenv(childEnv) != "" {
		// The child: Run applies the fault named in FaultEnv.
		Run(t, open)
		return
	}
	// Opening one store lets a backend that is not available here skip
	// (PostgreSQL without its URL) before any child starts: a child that
	// skipped would pass for the wrong reason.
	open(t)

	t.Run("NoFault", func(t *testing.T) {
		t.Parallel()
		out, err := runChild(t, "")
		if err != nil {
			t.Fatalf("the suite fails without a fault (%v), so the control proves nothing:\n%s", err, tail(out))
		}
		for _, name := range controlled {
			if !strings.Contains(out, "--- PASS: "+t.Name()[:strings.LastIndex(t.Name(), "/")]+"/"+name) {
				t.Errorf("the child without a fault did not run %s:\n%s", name, tail(out))
			}
		}
	})
	for _, f := range faults {
		t.Run(f.name, func(t *testing.T) {
			t.Parallel()
			out, err := runChild(t, f.name)
			var exit *exec.ExitError
			if !errors.As(err, &exit) {
				t.Fatalf("the suite passed with the fault %q (%v): it cannot see it:\n%s", f.name, err, tail(out))
			}
			failed := failedTests(out)
			parent := t.Name()[:strings.LastIndex(t.Name(), "/")]
			for _, name := range f.failing {
				if !failed[parent+"/"+name] {
					t.Errorf("with the fault %q, %s should fail and did not", f.name, name)
				}
			}
			var all []string
			for name := range failed {
				if name != parent {
					all = append(all, strings.TrimPrefix(name, parent+"/"))
				}
			}
			sort.Strings(all)
			t.Logf("with the fault %q these failed: %s", f.name, strings.Join(all, ", "))
			if t.Failed() {
				t.Logf("child output:\n%s", tail(out))
			}
		})
	}
}

// runChild re-executes this test binary to run the controlled parts of
// the suite under the calling test, with fault (or none) in FaultEnv.
func runChild(t *testing.T, fault string) (string, error) {
	t.Helper()
	parent := t.Name()[:strings.LastIndex(t.Name(), "/")]
	var levels []string
	for _, p := range strings.Split(parent, "/") {
		levels = append(levels, "^"+regexp.QuoteMeta(p)+"$")
	}
	prefix := strings.Join(levels, "/")
	var alts []string
	for _, c := range controlled {
		alt := prefix
		for _, p := range strings.Split(c, "/") {
			alt += "/^" + regexp.QuoteMeta(p) + "$"
		}
		alts = append(alts, alt)
	}
	args := []string{"-test.run=" + strings.Join(alts, "|"), "-test.v", "-test.count=1", "-test.timeout=15m"}
	if testing.Short() {
		args = append(args, "-test.short")
	}
	cmd := exec.CommandContext(t.Context(), os.Args[0], args...)
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, FaultEnv+"=") && !strings.HasPrefix(kv, childEnv+"=") {
			env = append(env, kv)
		}
	}
	cmd.Env = append(env, childEnv+"=1", FaultEnv+"="+fault)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

var failLine = regexp.MustCompile(`(?m)^\s*--- FAIL: (\S+)`)

func failedTests(out string) map[string]bool {
	failed := map[string]bool{}
	for _, m := range failLine.FindAllStringSubmatch(out, -1) {
		failed[m[1]] = true
	}
	return failed
}

// tail keeps the end of a long child output, where go test reports.
func tail(s string) string {
	const max = 8000
	if len(s) <= max {
		return s
	}
	return fmt.Sprintf("… (%d bytes before)\n%s", len(s)-max, s[len(s)-max:])
}
