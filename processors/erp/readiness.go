package erp

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/cenkalti/backoff/v4"
	"github.com/mariahq/maria/processors/erp/odoo"
)

// odooProbe is what the last check of Odoo found: the erp service is not
// ready until Odoo answered version() and accepted Maria's credentials.
type odooProbe struct {
	mu     sync.Mutex
	ok     bool
	err    error
	status odoo.Status
}

// errNotChecked is the readiness answer before the first check finished.
var errNotChecked = errors.New("waiting for Odoo's first answer (version and login)")

// Ready is the readiness check registered as "erp": failing until Odoo
// answered and the login worked (saying why not: unreachable, bad
// credentials), then while the breaker is open.
func (s *Service) Ready(context.Context) error {
	s.probe.mu.Lock()
	ok, err := s.probe.ok, s.probe.err
	s.probe.mu.Unlock()
	if !ok {
		if err == nil {
			return errNotChecked
		}
		return err
	}
	return s.breaker.Ready()
}

// CheckOdoo asks Odoo its version and checks Maria's login once, and
// records the outcome for Ready.
func (s *Service) CheckOdoo(ctx context.Context) (odoo.Status, error) {
	var st odoo.Status
	var err error
	if a, ok := s.raw.(*odoo.Auto); ok {
		st, err = a.Probe(ctx)
	} else if _, err = s.raw.Version(ctx); err == nil {
		st.UID, err = s.raw.UID(ctx)
	}
	if err != nil {
		err = s.probeError(err)
	}
	s.probe.mu.Lock()
	was := s.probe.ok
	s.probe.ok, s.probe.err, s.probe.status = err == nil, err, st
	s.probe.mu.Unlock()
	switch {
	case err == nil && !was:
		s.log.Info().Str("odoo_version", st.Server.Version).Str("protocol", st.Protocol).Int64("uid", st.UID).Msg("odoo answered; erp ready")
	case err != nil:
		s.log.Warn().Err(err).Msg("odoo check failed; erp not ready")
	}
	return st, err
}

// probeError words a failed check for /readyz, without secrets.
func (s *Service) probeError(err error) error {
	e, ok := odoo.AsError(err)
	if !ok {
		return fmt.Errorf("odoo check failed: %w", err)
	}
	switch e.Kind {
	case odoo.KindUnavailable:
		return fmt.Errorf("odoo unreachable at %s: %s", s.cfg.Odoo.URL, e.Message)
	case odoo.KindAccessDenied:
		return fmt.Errorf("odoo refused the credentials of %q on database %q (ODOO_USERNAME / ODOO_PASSWORD)", s.cfg.Odoo.Username, s.cfg.Odoo.DB)
	}
	return fmt.Errorf("odoo check failed (%s): %s", e.Kind, e.Message)
}

// watchOdoo checks Odoo until it answers and accepts the login, backing
// off from 500ms to 30s, so the service turns ready once Odoo recovers.
func (s *Service) watchOdoo(ctx context.Context) {
	bo := backoff.NewExponentialBackOff()
	bo.InitialInterval, bo.MaxInterval, bo.MaxElapsedTime = 500*time.Millisecond, 30*time.Second, 0
	_ = backoff.Retry(func() error {
		cctx, cancel := context.WithTimeout(ctx, s.cfg.QueryTimeout)
		defer cancel()
		_, err := s.CheckOdoo(cctx)
		if ctx.Err() != nil {
			return backoff.Permanent(ctx.Err())
		}
		return err
	}, backoff.WithContext(bo, ctx))
}

// odooMajor is the Odoo version found by the last detection (0 before):
// it decides the record link format.
func (s *Service) odooMajor() int {
	if a, ok := s.raw.(*odoo.Auto); ok {
		info, _ := a.Server()
		return info.Major
	}
	return 0
}
