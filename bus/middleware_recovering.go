package bus

import "context"

// recovering turns a panic below it (handler or processor middleware) into
// a permanent error that carries the stack (PanicStack): a panic on some
// input will panic again on the same input, so it is dead-lettered, and
// the dead letter and the log say where it happened.
func recovering() Middleware {
	return func(next Handler) Handler {
		return func(ctx context.Context, m *Msg) error { return safeHandle(ctx, next, m) }
	}
}

// safeHandle calls h and recovers its panic; panicStack stops at this
// frame, below which only the runtime's own remain.
func safeHandle(ctx context.Context, h Handler, m *Msg) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = Permanent(recoveredPanic(r))
		}
	}()
	return h(ctx, m)
}
