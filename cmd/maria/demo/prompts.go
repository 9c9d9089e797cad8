package demo

import "encoding/json"

// demoPrompts are the assistant pane's suggested prompts in the demo: they
// name the simulator's records (S00042, Azure Interior, Desk Combination),
// which is why production's defaults (processors/settings) are generic and
// the demo sets its own through MARIA_SUGGESTED_PROMPTS.
var demoPrompts = []map[string]string{
	{"title": "Order status", "message": "What is the status of sales order S00042?"},
	{"title": "Unpaid invoices", "message": "Which invoices of Azure Interior are still unpaid?"},
	{"title": "Stock", "message": "How many Desk Combination do we have in stock?"},
	{"title": "New lead", "message": "Create a lead for Acme, 5k, for Mitchell"},
}

// setDemoPrompts gives the demo its prompts unless the operator set some.
func setDemoPrompts(vars map[string]string) {
	if vars["MARIA_SUGGESTED_PROMPTS"] != "" {
		return
	}
	b, err := json.Marshal(demoPrompts)
	if err == nil {
		vars["MARIA_SUGGESTED_PROMPTS"] = string(b)
	}
}
