package auth

import (
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
)

func TestPasswordHashRoundTrip(t *testing.T) {
	h, err := HashPassword("correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") || strings.Contains(h, "horse") {
		t.Errorf("hash %q: want an argon2id PHC string with OWASP's parameters, without the password", h)
	}
	for pw, want := range map[string]bool{
		"correct horse battery staple":  true,
		"correct horse battery staple ": false,
		"Correct horse battery staple":  false,
		"":                              false,
	} {
		if ok, err := CheckPassword(h, pw); err != nil || ok != want {
			t.Errorf("CheckPassword(%q) = %v, %v; want %v", pw, ok, err, want)
		}
	}
	again, _ := HashPassword("correct horse battery staple")
	if again == h {
		t.Error("two hashes of one password are equal: the salt is not random")
	}
}

func TestMalformedHashes(t *testing.T) {
	for _, h := range []string{
		"",
		"plain text",
		"$argon2i$v=19$m=19456,t=2,p=1$c29tZXNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
		"$argon2id$v=16$m=19456,t=2,p=1$c29tZXNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
		"$argon2id$v=19$m=0,t=2,p=1$c29tZXNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
		"$argon2id$v=19$m=19456,t=2,p=1$$aGFzaGhhc2hoYXNoaGFzaA",
		"$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHQ$short",
		"$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy",
	} {
		if ok, err := CheckPassword(h, "password"); ok || !errors.Is(err, ErrMalformedHash) {
			t.Errorf("CheckPassword(%q) = %v, %v; want ErrMalformedHash", h, ok, err)
		}
	}
}

// TestHashesAgreeWithReferenceArgon2 checks the stored format against the
// reference implementation (libargon2, which cgimap verifies
// openstreetmap.org's hashes with), through its command-line tool: the
// same PHC string for the same password and salt, and a hash it made
// accepted by CheckPassword.
func TestHashesAgreeWithReferenceArgon2(t *testing.T) {
	tool, err := exec.LookPath("argon2")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("the argon2 tool is missing: scripts/setup installs Debian's argon2 package")
		}
		t.Skip("needs the reference argon2 tool: apt-get install argon2 (scripts/setup does)")
	}
	reference := func(password, salt string, params ...string) string {
		cmd := exec.Command(tool, append([]string{salt, "-id", "-e"}, params...)...)
		cmd.Stdin = strings.NewReader(password)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("argon2: %v", err)
		}
		return strings.TrimSpace(string(out))
	}
	ours := hashWithSalt("password", []byte("somesaltsomesalt"))
	if ref := reference("password", "somesaltsomesalt", "-t", "2", "-k", "19456", "-p", "1", "-l", "32"); ref != ours {
		t.Errorf("for one password and salt:\n ours      %s\n reference %s", ours, ref)
	}
	// Other parameters, as openstreetmap-website's own hashes may have.
	ref := reference("s3cr3t pässword", "another salt value", "-t", "3", "-k", "65536", "-p", "4", "-l", "32")
	for pw, want := range map[string]bool{"s3cr3t pässword": true, "s3cr3t password": false} {
		if ok, err := CheckPassword(ref, pw); err != nil || ok != want {
			t.Errorf("CheckPassword(reference hash %s, %q) = %v, %v; want %v", ref, pw, ok, err, want)
		}
	}
}

func TestValidateDisplayName(t *testing.T) {
	for name, ok := range map[string]bool{
		"Alice":                          true,
		"Élodie Relevée":                 true,
		"ab":                             false,
		" Alice":                         false,
		"Alice ":                         false,
		"a/b c":                          false,
		"user:name":                      false,
		"dot.name":                       false,
		"tab\tname":                      false,
		strings.Repeat("x", 255):         true,
		strings.Repeat("x", 256):         false,
		string([]byte{0xff, 0xfe, 0xfd}): false,
	} {
		if err := ValidateDisplayName(name); (err == nil) != ok {
			t.Errorf("ValidateDisplayName(%q) = %v, want valid %v", name, err, ok)
		}
	}
}

// BenchmarkCheckPassword is what one HTTP Basic request pays to check its
// password, beside a SHA-256 of an API token, what a Bearer token pays.
func BenchmarkCheckPassword(b *testing.B) {
	h, err := HashPassword("correct horse battery staple")
	if err != nil {
		b.Fatal(err)
	}
	b.Run("argon2id", func(b *testing.B) {
		for b.Loop() {
			if ok, err := CheckPassword(h, "correct horse battery staple"); !ok || err != nil {
				b.Fatal("the password did not check")
			}
		}
	})
	token, hash, err := NewAPIToken()
	if err != nil {
		b.Fatal(err)
	}
	b.Run("api-token-sha256", func(b *testing.B) {
		for b.Loop() {
			if string(HashAPIToken(token)) != string(hash) {
				b.Fatal("the token did not hash alike")
			}
		}
	})
}
