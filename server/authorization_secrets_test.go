package server_test

import (
	"context"
	"database/sql"
	"encoding/base64"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	_ "modernc.org/sqlite"
)

// signInWithPasswords sends every account's password over HTTP Basic,
// right and wrong, so that checkNoSecretLeaked has passwords to look
// for: the right one is the account, a wrong one cgimap's 401 that
// tells nothing.
func signInWithPasswords(t *testing.T, w *world) {
	t.Helper()
	for c, name := range accountOf {
		right := w.call(anonymous, http.MethodGet, "/api/0.6/user/details", "", "", "Authorization", basic(name, w.passwords[name]))
		if right.status != http.StatusOK || !strings.Contains(right.body, `display_name="`+name+`"`) {
			t.Errorf("%s (%s) with their password: %d %.200q", name, c, right.status, right.body)
		}
		wrong := w.passwords[name] + "-wrong"
		w.secrets = append(w.secrets, wrong)
		a := w.call(anonymous, http.MethodPut, "/api/0.6/changeset/create", "text/xml", "<osm><changeset/></osm>", "Authorization", basic(name, wrong))
		if a.status != http.StatusUnauthorized || !strings.Contains(a.body, "Incorrect user or password") {
			t.Errorf("%s with a wrong password: %d %.200q, want 401 Incorrect user or password", name, a.status, a.body)
		}
	}
}

func basic(user, password string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+password))
}

// checkNoSecretLeaked: after the whole table, no password or token the
// callers used is in the server's log or in any answer, and the SQLite
// dataset holds none of them in clear (only hashes).
func checkNoSecretLeaked(t *testing.T, w *world) {
	t.Helper()
	log := w.proc.Log()
	w.mu.Lock()
	answers := strings.Join(w.answers, "\n")
	w.mu.Unlock()
	if len(answers) == 0 || len(log) == 0 {
		t.Fatal("no answers or no log to search: the check would pass vacuously")
	}
	for _, secret := range w.secrets {
		if strings.Contains(log, secret) {
			t.Errorf("the server's log holds the secret %.8s…", secret)
		}
		if strings.Contains(answers, secret) {
			t.Errorf("an answer holds the secret %.8s…", secret)
		}
	}
	if w.sqliteDir != "" {
		checkStoreHoldsNoSecret(t, w.sqliteDir, w.secrets)
	}
}

// checkStoreHoldsNoSecret searches every text and blob of every table of
// the SQLite dataset, and its files' raw bytes (WAL included), for the
// secrets in clear.
func checkStoreHoldsNoSecret(t *testing.T, dir string, secrets []string) {
	t.Helper()
	var files []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			files = append(files, path)
		}
		return err
	})
	if err != nil || len(files) == 0 {
		t.Fatalf("no dataset files under %s: %v", dir, err)
	}
	var dbFile string
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range secrets {
			if strings.Contains(string(b), s) {
				t.Errorf("%s holds the secret %.8s… in clear", filepath.Base(f), s)
			}
		}
		if strings.HasSuffix(f, ".db") || strings.HasSuffix(f, ".sqlite") {
			dbFile = f
		}
	}
	if dbFile == "" {
		t.Fatalf("no SQLite database among %v", files)
	}
	db, err := sql.Open("sqlite", "file:"+dbFile+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	var hashes int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM api_tokens WHERE length(token_hash) = 32`).Scan(&hashes); err != nil {
		t.Fatal(err)
	}
	var passwords int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM users WHERE password_hash LIKE '$argon2id$%'`).Scan(&passwords); err != nil {
		t.Fatal(err)
	}
	if hashes < len(accountOf)+2 || passwords != len(accountOf) {
		t.Errorf("the store holds %d SHA-256 token hashes and %d argon2id password hashes, want at least %d and %d",
			hashes, passwords, len(accountOf)+2, len(accountOf))
	}
}
