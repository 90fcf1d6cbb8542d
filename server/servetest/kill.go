package servetest

import (
	"errors"
	"os"
	"testing"
)

// Kill ends the server with SIGKILL, as a crash, the OOM killer or a
// pulled plug would: it gets no chance to finish or roll back anything
// itself. It returns once the process has exited; Stop does nothing
// after it. Tests of what a restart finds use it.
func (p *Process) Kill(t testing.TB) {
	t.Helper()
	p.stopOnce.Do(func() {
		if err := p.cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
			t.Errorf("kill serve: %v", err)
		}
		<-p.exited
	})
}
