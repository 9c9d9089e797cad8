package ai

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/mariahq/maria/schemas"
)

// ProposalNames are the display names a proposal shows next to ids, so the
// user confirms "update crm.lead #12 “Acme deal”", not a bare number.
type ProposalNames struct {
	// Records: id (decimal) → display_name of the records a write changes.
	Records map[string]string
	// Values: field → display_name of the record a many2one value points to.
	Values map[string]string
}

// errMissingRecords tells the model a write names records that do not exist.
type errMissingRecords struct {
	model string
	ids   []int64
}

func (e *errMissingRecords) Error() string {
	s := make([]string, len(e.ids))
	for i, id := range e.ids {
		s[i] = fmt.Sprintf("#%d", id)
	}
	return fmt.Sprintf("%s %s not found: check the ids before proposing a change", e.model, strings.Join(s, ", "))
}

// names resolves the display names a proposal shows, with ERP reads made as
// the asking user's turn. Names are best effort (a field or model the read
// allow-list hides stays a bare id), except that a write on ids the ERP
// reports missing is an error for the model to fix.
func (r *toolRunner) names(ctx context.Context, cmd schemas.ERPCommand) (ProposalNames, error) {
	var n ProposalNames
	if len(cmd.IDs) > 0 {
		rep, err := r.erp.Query(ctx, schemas.ERPQuery{Method: "read", Model: cmd.Model, IDs: cmd.IDs, Fields: []string{"display_name"}})
		if err != nil {
			return n, err
		}
		if rep.Error == "" {
			n.Records = labels(rep.Records)
			var missing []int64
			for _, id := range cmd.IDs {
				if _, ok := n.Records[strconv.FormatInt(id, 10)]; !ok {
					missing = append(missing, id)
				}
			}
			if len(missing) > 0 {
				return n, &errMissingRecords{model: cmd.Model, ids: missing}
			}
		}
	}
	targets := map[string]int64{}
	for k, v := range cmd.Values {
		if id, ok := recordID(map[string]any{"id": v}); ok && id > 0 {
			targets[k] = id
		}
	}
	if len(targets) == 0 {
		return n, nil
	}
	rep, err := r.erp.Query(ctx, schemas.ERPQuery{Method: "fields_get", Model: cmd.Model})
	if err != nil || rep.Error != "" {
		return n, err
	}
	fields := make([]string, 0, len(targets))
	for k := range targets {
		fields = append(fields, k)
	}
	sort.Strings(fields)
	for _, f := range fields {
		attrs, _ := rep.Fields[f].(map[string]any)
		relation, _ := attrs["relation"].(string)
		if attrs["type"] != "many2one" || relation == "" {
			continue
		}
		id := targets[f]
		tr, err := r.erp.Query(ctx, schemas.ERPQuery{Method: "read", Model: relation, IDs: []int64{id}, Fields: []string{"display_name"}})
		if err != nil {
			return n, err
		}
		if name, ok := labels(tr.Records)[strconv.FormatInt(id, 10)]; ok && tr.Error == "" {
			if n.Values == nil {
				n.Values = map[string]string{}
			}
			n.Values[f] = name
		}
	}
	return n, nil
}

// labels maps the id of each record to its display name.
func labels(records []map[string]any) map[string]string {
	out := make(map[string]string, len(records))
	for _, rec := range records {
		if id, ok := recordID(rec); ok {
			out[strconv.FormatInt(id, 10)] = recordLabel(rec, id)
		}
	}
	return out
}
