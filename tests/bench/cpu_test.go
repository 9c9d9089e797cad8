package bench

import (
	"syscall"
	"time"
)

// processCPU is the CPU time (user + system) this process has used so
// far: per turn it is steadier than a rate on a shared machine, where other
// work steals wall time but not this process' CPU.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
