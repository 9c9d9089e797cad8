package ai

import (
	"fmt"
	"strings"
)

// isHelpRequest tells whether a question is a request for help ("help",
// "help?", "/maria help") rather than something for the model.
func isHelpRequest(text string) bool {
	t := strings.ToLower(strings.TrimSpace(text))
	t = strings.TrimRight(t, "?!. ")
	return t == "help" || t == "aide" || t == "ayuda" || t == "hilfe"
}

// helpText is what Maria says about herself: what she can read, how
// changes are proposed and confirmed, and what is stored. It names no
// record: the same text serves every company (the demo's data lives in the
// demo only).
func helpText(user string) string {
	return fmt.Sprintf("Hi <@%s>! I answer questions about our Odoo ERP from the records I'm allowed to read — "+
		"customers, quotations and sales orders, invoices, products and stock, CRM leads. "+
		"Try \"What are my open quotations?\", \"Which invoices are overdue?\" or "+
		"\"How many units of our best-selling product are in stock?\"; follow-up questions in the same thread work too.\n"+
		"*Changes:* ask in plain words (\"Create a lead for this company, 5k, for me\"). I post a proposal showing every value; "+
		"nothing changes in Odoo until you — the person who asked — click *Confirm*.\n"+
		"*Where:* ERP answers work in direct messages and my assistant pane, and in channels an admin enabled. "+
		"Guests and people from other organisations can't use the ERP through me.\n"+
		"*What is kept:* this thread's messages (so I can follow up), the files you share with me, and an audit "+
		"record of every change and confirmation. Your question and the ERP data needed to answer it go to the "+
		"company's AI service.", user)
}
