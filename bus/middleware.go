package bus

// Middleware wraps a Handler with behaviour around it: what it does before
// calling next, what it does with next's result. The runtime is itself a
// stack of middleware, one concept per file (middleware_*.go); a processor
// adds its own through Processor.Middleware.
type Middleware func(next Handler) Handler

// Chain wraps h in mws, the first outermost: Chain(h, a, b) runs a, then
// b, then h.
func Chain(h Handler, mws ...Middleware) Handler {
	for i := len(mws) - 1; i >= 0; i-- {
		h = mws[i](h)
	}
	return h
}

// handler assembles what Run calls for every delivery, outermost first:
//
//	tracing      the consumer span (child of the publisher's), ended with the verdict
//	logging      one line per verdict other than ack: retry, dead letter, panic (with stack)
//	metrics      in flight, handler latency, verdicts, redeliveries, dead letters
//	settling     the verdict on the server: ack, nak with delay, or term
//	deadLetters  permanent failures, exhausted retries, undecodable messages → DLQ
//	retryBackoff the nak delay of a retryable failure (its own, or the consumer's schedule)
//	envelope     an undecodable message never reaches the handler; the correlation id joins ctx
//	recovering   a panic becomes a permanent error carrying its stack
//	p.Middleware the processor's own, first outermost: they see the runtime's
//	             context (span, correlation id) and m.Log, and their panics are recovered
//	p.Handle
//
// The handler's contract is only its return value: nil acks, Retry or an
// unmarked error naks after a delay, Permanent dead-letters.
func (p *Processor) handler(b *Bus) Handler {
	rt := []Middleware{
		tracing(p.source()),
		logging(),
		metrics(p.Stream, p.source()),
		settling(),
		deadLetters(b, p.Stream, p.Name, p.MaxDeliver),
		retryBackoff(p.BackOff),
		envelope(),
		recovering(),
	}
	return Chain(p.Handle, append(rt, p.Middleware...)...)
}
