package erp

import (
	"reflect"
	"testing"
)

func TestParseActions(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    []string
		wantErr bool
	}{
		{DefaultActions, []string{"account.move.action_post", "crm.lead.action_set_won", "sale.order.action_confirm"}, false},
		{"sale.order.action_cancel\n crm.lead.action_set_lost", []string{"crm.lead.action_set_lost", "sale.order.action_cancel"}, false},
		{"", nil, false},
		{"sale.order._action_confirm", nil, true}, // private
		{"action_confirm", nil, true},
	} {
		a, err := ParseActions(tc.in)
		if (err != nil) != tc.wantErr {
			t.Fatalf("%q: err %v", tc.in, err)
		}
		if err == nil && !reflect.DeepEqual(a.List(), tc.want) {
			t.Fatalf("%q: %v, want %v", tc.in, a.List(), tc.want)
		}
	}
	a, _ := ParseActions(DefaultActions)
	if !a.Allowed("sale.order", "action_confirm") || a.Allowed("sale.order", "action_post") || a.Allowed("res.partner", "action_confirm") {
		t.Fatal("Allowed does not follow the list")
	}
}
