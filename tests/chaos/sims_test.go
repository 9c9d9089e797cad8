package chaos

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mariahq/maria/tests/sim/odoosim"
	"github.com/mariahq/maria/tests/sim/openaisim"
	"github.com/mariahq/maria/tests/sim/slacksim"
)

// sims are the protocol simulators the services talk to, in the test
// process, on loopback.
type sims struct {
	slack         *slacksim.Sim
	signingSecret string
	openai        *openAI
	odoo          *odoosim.Server
}

func startSims() (*sims, error) {
	s := &sims{slack: slacksim.New("xoxb-chaos-" + randomHex(12)), signingSecret: randomHex(32), odoo: odoosim.Start()}
	var err error
	if s.openai, err = startOpenAI(); err != nil {
		s.close()
		return nil, err
	}
	return s, nil
}

func (s *sims) close() {
	if s.openai != nil {
		s.openai.down()
	}
	s.slack.Close()
	s.odoo.Close()
}

// vars is the configuration pointing every service at the simulators.
func (s *sims) vars() map[string]string {
	return map[string]string{
		"SLACK_API_URL": s.slack.URL(), "SLACK_BOT_TOKEN": s.slack.Token(), "SLACK_SIGNING_SECRET": s.signingSecret,
		"OPENAI_BASE_URL": s.openai.url(), "OPENAI_API_KEY": s.openai.sim.APIKey,
		"ODOO_URL": s.odoo.URL, "ODOO_DB": s.odoo.DB, "ODOO_USERNAME": s.odoo.User, "ODOO_PASSWORD": s.odoo.Password,
	}
}

// openAIFault decides, for the nth request, whether it is answered with
// resp instead of the rules' answer (nil: no fault).
type openAIFault func(n int64) (resp openaisim.Response, replace bool, delay time.Duration)

// openAI is the OpenAI simulator (its deterministic rules) on a fixed
// loopback address it can leave and come back to (an outage), with a
// switchable fault.
type openAI struct {
	sim   *openaisim.Sim
	addr  string
	n     atomic.Int64
	fault atomic.Pointer[openAIFault]

	mu  sync.Mutex
	srv *http.Server
}

func startOpenAI() (*openAI, error) {
	o := &openAI{sim: openaisim.New(nil)}
	o.sim.APIKey = "sk-chaos-" + randomHex(12)
	rules := openaisim.Rules()
	o.sim.SetHandler(func(r *openaisim.Request) openaisim.Response {
		n := o.n.Add(1)
		if f := o.fault.Load(); f != nil {
			resp, replace, delay := (*f)(n)
			if replace {
				return resp
			}
			out := rules(r)
			out.Delay = delay
			return out
		}
		return rules(r)
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("openai sim: %w", err)
	}
	o.addr = ln.Addr().String()
	o.serve(ln)
	return o, nil
}

func (o *openAI) url() string { return "http://" + o.addr + "/v1" }

func (o *openAI) serve(ln net.Listener) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.srv = &http.Server{Handler: o.sim, ReadHeaderTimeout: 10 * time.Second}
	srv := o.srv
	go func() { _ = srv.Serve(ln) }()
}

// setFault switches the fault (nil: none).
func (o *openAI) setFault(f openAIFault) {
	if f == nil {
		o.fault.Store(nil)
		return
	}
	o.fault.Store(&f)
}

// down closes the listener and every connection: the API is unreachable
// (connection refused) until up.
func (o *openAI) down() {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.srv != nil {
		_ = o.srv.Close()
		o.srv = nil
	}
}

// up listens again on the same address.
func (o *openAI) up() error {
	var ln net.Listener
	var err error
	for range 50 { // the port was just released; retry briefly
		if ln, err = net.Listen("tcp", o.addr); err == nil {
			o.serve(ln)
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return errors.Join(fmt.Errorf("openai sim: listen again on %s", o.addr), err)
}

// everyNth answers every nth request with resp.
func everyNth(n int64, resp openaisim.Response) openAIFault {
	return func(i int64) (openaisim.Response, bool, time.Duration) {
		return resp, i%n == 0, 0
	}
}

// slowAll delays every answer by d.
func slowAll(d time.Duration) openAIFault {
	return func(int64) (openaisim.Response, bool, time.Duration) { return openaisim.Response{}, false, d }
}
