package main

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestServeReviewConfig: serve --review-config refuses a file it cannot
// use before it opens the dataset, naming the file and what is wrong,
// and serves the review under a good one.
func TestServeReviewConfig(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	missing := filepath.Join(dir, "missing.yaml")
	unknownRule := write("unknown-rule.yaml", "rules:\n  no_such_rule:\n    enabled: true\n")
	unknownKey := write("unknown-key.yaml", "policy:\n  approvals_required: 1\n  approve_everything: true\n")
	for file, want := range map[string]string{missing: "missing.yaml", unknownRule: "no_such_rule", unknownKey: "approve_everything"} {
		code, _, stderr := runInProcess(map[string]string{"GEOCOMMUNS_DATA": data}, "serve", "--review-config", file)
		if code == 0 || !strings.Contains(stderr, want) || !strings.Contains(stderr, filepath.Base(file)) {
			t.Errorf("serve --review-config %s: exit %d, stderr %q; want a failure naming the file and %q", filepath.Base(file), code, stderr, want)
		}
	}
	if exists(filepath.Join(data)) {
		t.Errorf("a refused configuration opened the dataset at %s", data)
	}

	good := write("review.yaml", "policy:\n  approvals_required: 1\nfallback_reviewers: [rita]\n")
	s := startServe(t, "--data", data, "--review-config", good)
	// The discussion calls are mounted: an anonymous comment is asked for
	// credentials, where an unknown path would be 404.
	resp, err := http.Post(s.base+"/api/0.6/changeset/1/comment", "application/x-www-form-urlencoded", strings.NewReader("text=hello"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("anonymous comment: %d, want 401 from the mounted discussion call", resp.StatusCode)
	}
	if code := s.stop(t); code != 0 {
		t.Errorf("serve exited %d:\n%s", code, s.log())
	}
}
