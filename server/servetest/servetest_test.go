package servetest_test

import (
	"net"
	"net/http"
	"path/filepath"
	"testing"

	"github.com/geocommuns/geocommuns/server/servetest"
)

func TestMain(m *testing.M) {
	servetest.Main(m)
}

// freeAddress is an address of 127.0.0.1 nobody listens on now.
func freeAddress(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func requireHealthy(t *testing.T, p *servetest.Process) {
	t.Helper()
	resp, err := http.Get(p.Base + "/api/capabilities")
	if err != nil {
		t.Fatalf("GET %s/api/capabilities: %v\n%s", p.Base, err, p.Log())
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s/api/capabilities: %s", p.Base, resp.Status)
	}
}

func TestStartListensWhereTold(t *testing.T) {
	binary := servetest.Binary(t)
	data := []string{"--data", filepath.Join(t.TempDir(), "data")}
	for _, form := range []func(addr string) []string{
		func(addr string) []string { return []string{"--listen", addr} },
		func(addr string) []string { return []string{"--listen=" + addr} },
	} {
		addr := freeAddress(t)
		p := servetest.Start(t, binary, append(form(addr), data...)...)
		if p.Base != "http://"+addr {
			t.Errorf("serve %v listens at %s, want http://%s", form(addr), p.Base, addr)
		}
		requireHealthy(t, p)
		p.Stop(t)
	}
}

func TestStartPicksAFreePort(t *testing.T) {
	p := servetest.Start(t, servetest.Binary(t), "--data", filepath.Join(t.TempDir(), "data"))
	requireHealthy(t, p)
	if p.Log() == "" {
		t.Error("the server's log is empty, though it logged that it listens")
	}
}

func TestRunReturnsStdout(t *testing.T) {
	out := servetest.Run(t, servetest.Binary(t), "", "--help")
	if out == "" {
		t.Error("geocommuns --help printed nothing on stdout")
	}
}
