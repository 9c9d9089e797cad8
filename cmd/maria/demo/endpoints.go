package demo

import "github.com/mariahq/maria/cmd/maria/ops"

// publishConfig leaves the services' configuration (the simulators'
// endpoints, the demo's settings) in the data dir, where `maria replay --to
// sandbox` against this demo finds it (ops.DemoConfigFile) and runs ai and
// erp as they run here. Best effort: the demo runs without it.
func (e *Env) publishConfig() {
	_ = ops.WriteDemoConfig(e.DataDir, e.Vars)
}
