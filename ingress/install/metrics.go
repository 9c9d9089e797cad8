package install

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// metricInstalls counts install redirects by outcome: installed, cancelled,
// refused_state, exchange_failed, store_failed.
var metricInstalls = promauto.NewCounterVec(prometheus.CounterOpts{
	Name: "maria_installs_total",
	Help: "Slack install redirects handled, by outcome.",
}, []string{"outcome"})
