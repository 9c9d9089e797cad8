package bus

import (
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
)

// maxStackFrames and maxStackBytes bound the stack a dead letter carries:
// the frames nearest the panic say where it happened; deeper ones are the
// runtime's own, and a header has to stay small.
const (
	maxStackFrames = 24
	maxStackBytes  = 2048
)

// panicError is a recovered handler panic with the stack where it happened.
type panicError struct {
	value any
	stack string
}

func (e *panicError) Error() string { return fmt.Sprintf("handler panic: %v", e.value) }

// PanicStack returns the stack of the handler panic err carries, if any:
// the panicking function first, one "function (file:line)" per frame
// separated by " < ", on one line because it travels in a header.
func PanicStack(err error) string {
	var pe *panicError
	if errors.As(err, &pe) {
		return pe.stack
	}
	return ""
}

// recoveredPanic wraps v, the value of a recover() in a deferred call, with
// the stack of the goroutine that panicked: called from that deferred
// function, the stack still holds the frames that led to the panic.
func recoveredPanic(v any) *panicError {
	return &panicError{value: v, stack: panicStack()}
}

// panicStack formats the frames below runtime.gopanic (the function that
// panicked and its callers), skipping runtime frames such as sigpanic on
// top and stopping at safeHandle, below which only the runtime's own
// frames remain.
func panicStack() string {
	pcs := make([]uintptr, 64)
	n := runtime.Callers(1, pcs)
	frames := runtime.CallersFrames(pcs[:n])
	var b strings.Builder
	inPanic, count := false, 0
	for {
		f, more := frames.Next()
		switch {
		case f.Function == "runtime.gopanic":
			inPanic = true
		case !inPanic || strings.HasPrefix(f.Function, "runtime."):
		case strings.HasSuffix(f.Function, ".safeHandle"):
			return b.String()
		default:
			line := f.Function + " (" + filepath.Base(f.File) + ":" + strconv.Itoa(f.Line) + ")"
			if b.Len() > 0 {
				line = " < " + line
			}
			if b.Len()+len(line) > maxStackBytes || count == maxStackFrames {
				b.WriteString(" < …")
				return b.String()
			}
			b.WriteString(line)
			count++
		}
		if !more {
			return b.String()
		}
	}
}
