package main

import (
	"strings"
	"testing"
)

// --write-rate 0 turns the per-user write limit off: a user writes past
// what --write-burst would allow. The same writes under a limit of one
// are refused 429 from the second, so the first half can fail.
func TestServeWriteRateZeroDisablesTheLimit(t *testing.T) {
	ds := newDataset(t, "sqlite")
	m := trustedMappers(t, ds.flags, 1)[0]

	off := startServe(t, append(ds.flags, "--write-rate", "0", "--write-burst", "1")...)
	for i := range 3 {
		if _, err := m.open(off.base); err != nil {
			t.Errorf("changeset %d with --write-rate 0: %v", i+1, err)
		}
	}
	if code := off.stop(t); code != 0 {
		t.Errorf("serve --write-rate 0: exit %d after SIGTERM\n%s", code, off.log())
	}

	on := startServe(t, append(ds.flags, "--write-rate", "1", "--write-burst", "1")...)
	if _, err := m.open(on.base); err != nil {
		t.Fatalf("first changeset under a limit of one: %v", err)
	}
	if _, err := m.open(on.base); err == nil || !strings.Contains(err.Error(), "429") {
		t.Errorf("second changeset under a limit of one: %v, want 429", err)
	}
	if code := on.stop(t); code != 0 {
		t.Errorf("serve --write-rate 1: exit %d after SIGTERM\n%s", code, on.log())
	}
}

// A negative limit is refused before serve opens anything, naming the flag.
func TestServeRefusesANegativeWriteRate(t *testing.T) {
	data := t.TempDir()
	for _, flag := range []string{"--write-rate", "--write-burst"} {
		code, _, stderr := runInProcess(nil, "serve", "--data", data, flag, "-1")
		if code != exitUsage || !strings.Contains(stderr, flag+" cannot be negative") {
			t.Errorf("serve %s -1: exit %d, stderr %q; want %d naming the flag", flag, code, stderr, exitUsage)
		}
	}
}
