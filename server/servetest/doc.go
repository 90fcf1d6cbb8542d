// Package servetest runs the geocommuns binary in tests as an operator
// does: built once per test binary from this checkout, its CLI commands
// run to completion, and `geocommuns serve` started as a process that is
// stopped with SIGTERM when the test ends.
//
// It builds the binary with the go command rather than importing
// cmd/geocommuns, since nothing imports cmd. A test package that uses it
// calls Main from its TestMain, which removes the built binary at exit.
package servetest
