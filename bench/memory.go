package bench

import (
	"bufio"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
)

// resetPeakRSS returns freed memory to the OS and resets the kernel's
// high-water mark of this process's resident set (Linux ≥ 4.0), so that
// the next peakRSSMB reading covers one scenario only.
func resetPeakRSS() {
	scenarioPeak.mu.Lock()
	scenarioPeak.mb = max(scenarioPeak.mb, peakRSSMB())
	scenarioPeak.mu.Unlock()
	runtime.GC()
	debug.FreeOSMemory()
	// Writing 5 to clear_refs resets VmHWM to the current RSS.
	_ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
}

// peakRSSMB reads the process's peak resident set since the last reset,
// in MiB, or 0 where /proc is not available.
func peakRSSMB() float64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "VmHWM:") {
			continue
		}
		fields := strings.Fields(strings.TrimPrefix(line, "VmHWM:"))
		if len(fields) == 0 {
			return 0
		}
		kb, err := strconv.ParseFloat(fields[0], 64)
		if err != nil {
			return 0
		}
		return kb / 1024
	}
	return 0
}

// scenarioPeak is the highest peak read before any reset since the
// current scenario started: scenarios reset the mark before their timed
// parts, and the scenario's own peak must survive those resets.
var scenarioPeak struct {
	mu sync.Mutex
	mb float64
}

// startScenarioPeak starts measuring one scenario's peak resident set.
func startScenarioPeak() {
	resetPeakRSS()
	scenarioPeak.mu.Lock()
	scenarioPeak.mb = 0
	scenarioPeak.mu.Unlock()
}

// scenarioPeakMB is the peak resident set since startScenarioPeak, in
// MiB, across the resets scenarios made in between.
func scenarioPeakMB() float64 {
	scenarioPeak.mu.Lock()
	defer scenarioPeak.mu.Unlock()
	return max(scenarioPeak.mb, peakRSSMB())
}
