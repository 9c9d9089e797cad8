package odoosim

import (
	"fmt"
	"math"
	"time"
)

// Field constructors keep the schema below readable.
func char(label string) *field     { return &field{Type: "char", Label: label} }
func text(label string) *field     { return &field{Type: "text", Label: label} }
func html(label string) *field     { return &field{Type: "html", Label: label} }
func boolean(label string) *field  { return &field{Type: "boolean", Label: label} }
func integer(label string) *field  { return &field{Type: "integer", Label: label} }
func float(label string) *field    { return &field{Type: "float", Label: label} }
func monetary(label string) *field { return &field{Type: "monetary", Label: label} }
func date(label string) *field     { return &field{Type: "date", Label: label} }
func datetime(label string) *field { return &field{Type: "datetime", Label: label} }
func m2o(label, rel string) *field { return &field{Type: "many2one", Label: label, Relation: rel} }
func m2m(label, rel string) *field { return &field{Type: "many2many", Label: label, Relation: rel} }
func o2m(label, rel, inverse string) *field {
	return &field{Type: "one2many", Label: label, Relation: rel, Inverse: inverse}
}
func selection(label string, pairs ...string) *field {
	f := &field{Type: "selection", Label: label}
	for i := 0; i+1 < len(pairs); i += 2 {
		f.Selection = append(f.Selection, [2]string{pairs[i], pairs[i+1]})
	}
	return f
}
func req(f *field) *field { f.Required = true; return f }
func def(f *field, v any) *field {
	f.Default = func(*Server, *model) any { return v }
	return f
}
func computed(f *field, fn func(s *Server, r record) any) *field {
	f.Compute, f.Readonly = fn, true
	return f
}

// withAudit adds the magic fields every Odoo model has.
func withAudit(fs map[string]*field) map[string]*field {
	fs["create_date"] = &field{Type: "datetime", Label: "Created on", Readonly: true}
	fs["write_date"] = &field{Type: "datetime", Label: "Last Updated on", Readonly: true}
	fs["create_uid"] = &field{Type: "many2one", Label: "Created by", Relation: "res.users", Readonly: true}
	fs["write_uid"] = &field{Type: "many2one", Label: "Last Updated by", Relation: "res.users", Readonly: true}
	return fs
}

// normalizeRecord turns Go literals (int, []int) into stored types.
func normalizeRecord(r record) record {
	for k, v := range r {
		switch x := v.(type) {
		case int:
			r[k] = int64(x)
		case []int:
			ids := make([]int64, len(x))
			for i, id := range x {
				ids[i] = int64(id)
			}
			r[k] = ids
		}
	}
	return r
}

func round2(f float64) float64 { return math.Round(f*100) / 100 }

// demoData is a slice of Odoo 17's demo database.
func demoData(s *Server) map[string]*model {
	ms := map[string]*model{}
	define := func(name, label, order string, fields map[string]*field, rows ...record) *model {
		m := &model{Name: name, Label: label, Order: order, Fields: fields, nextID: 1}
		for _, r := range rows {
			r = normalizeRecord(r)
			if _, ok := fields["create_date"]; ok {
				if _, set := r["create_date"]; !set {
					r["create_date"] = "2026-10-01 09:00:00"
				}
				r["write_date"] = r["create_date"]
				r["create_uid"], r["write_uid"] = int64(2), int64(2)
			}
			if _, ok := fields["active"]; ok {
				if _, set := r["active"]; !set {
					r["active"] = true
				}
			}
			m.add(r)
		}
		ms[name] = m
		return m
	}
	nowDT := func(*Server, *model) any { return s.now().UTC().Format(time.DateTime) }

	define("res.country", "Country", "name", map[string]*field{"name": req(char("Country Name")), "code": char("Country Code")},
		record{"id": 233, "name": "United States", "code": "US"},
		record{"id": 75, "name": "France", "code": "FR"},
		record{"id": 20, "name": "Belgium", "code": "BE"})
	define("res.currency", "Currency", "name", map[string]*field{"name": req(char("Currency")), "symbol": char("Symbol")},
		record{"id": 1, "name": "USD", "symbol": "$"},
		record{"id": 2, "name": "EUR", "symbol": "€"})
	define("uom.uom", "Product Unit of Measure", "name", map[string]*field{"name": req(char("Unit of Measure"))},
		record{"id": 1, "name": "Units"}, record{"id": 12, "name": "Hours"})
	define("product.category", "Product Category", "name", map[string]*field{"name": req(char("Name"))},
		record{"id": 1, "name": "All"}, record{"id": 8, "name": "Office Furniture"}, record{"id": 5, "name": "Services"})
	define("stock.warehouse", "Warehouse", "name", map[string]*field{"name": req(char("Warehouse")), "code": char("Short Name")},
		record{"id": 1, "name": "YourCompany", "code": "WH"})
	loc := define("stock.location", "Inventory Locations", "complete_name", map[string]*field{"name": req(char("Location Name")),
		"complete_name": char("Full Location Name"), "usage": selection("Location Type", "supplier", "Vendor Location", "view", "View", "internal", "Internal Location", "customer", "Customer Location", "inventory", "Inventory Loss", "transit", "Transit Location"),
		"warehouse_id": m2o("Warehouse", "stock.warehouse")},
		record{"id": 8, "name": "Stock", "complete_name": "WH/Stock", "usage": "internal", "warehouse_id": 1},
		record{"id": 5, "name": "Customers", "complete_name": "Partners/Customers", "usage": "customer"})
	loc.RecName = "complete_name"
	define("crm.stage", "CRM Stages", "sequence, name", map[string]*field{"name": req(char("Stage Name")), "sequence": integer("Sequence")},
		record{"id": 1, "name": "New", "sequence": 1}, record{"id": 2, "name": "Qualified", "sequence": 2},
		record{"id": 3, "name": "Proposition", "sequence": 3}, record{"id": 4, "name": "Won", "sequence": 70})
	define("crm.team", "Sales Team", "name", map[string]*field{"name": req(char("Sales Team"))},
		record{"id": 1, "name": "Sales"}, record{"id": 5, "name": "Website"})
	define("project.task.type", "Task Stage", "sequence, id", map[string]*field{"name": req(char("Name")), "sequence": integer("Sequence")},
		record{"id": 1, "name": "New", "sequence": 1}, record{"id": 2, "name": "In Progress", "sequence": 2}, record{"id": 3, "name": "Done", "sequence": 3})
	define("project.project", "Project", "name", withAudit(map[string]*field{"name": req(char("Name")), "partner_id": m2o("Customer", "res.partner"),
		"user_id": m2o("Project Manager", "res.users"), "active": boolean("Active")}),
		record{"id": 1, "name": "Office Design", "partner_id": 10, "user_id": 2},
		record{"id": 2, "name": "Research & Development", "user_id": 2})

	define("res.users", "User", "name", withAudit(map[string]*field{"name": req(char("Name")), "login": req(char("Login")),
		"email": char("Email"), "partner_id": m2o("Related Partner", "res.partner"), "active": boolean("Active")}),
		record{"id": 2, "name": "Mitchell Admin", "login": "admin", "email": "admin@yourcompany.example.com", "partner_id": 3},
		record{"id": 6, "name": "Marc Demo", "login": "demo", "email": "mark.brown23@example.com", "partner_id": 7},
		record{"id": 7, "name": "Sofia Manager", "login": "sofia", "email": "sofia.manager@example.com", "partner_id": 8})

	partner := map[string]*field{
		"name": req(char("Name")), "is_company": boolean("Is a Company"), "parent_id": m2o("Related Company", "res.partner"),
		"email": char("Email"), "phone": char("Phone"), "mobile": char("Mobile"), "street": char("Street"), "city": char("City"),
		"zip": char("Zip"), "country_id": m2o("Country", "res.country"), "vat": char("Tax ID"), "website": char("Website Link"),
		"ref": char("Reference"), "comment": html("Notes"), "user_id": m2o("Salesperson", "res.users"),
		"customer_rank": integer("Customer Rank"), "supplier_rank": integer("Supplier Rank"), "active": boolean("Active"),
		"type":      def(selection("Address Type", "contact", "Contact", "invoice", "Invoice Address", "delivery", "Delivery Address", "other", "Other Address"), "contact"),
		"child_ids": o2m("Contact", "res.partner", "parent_id"),
	}
	define("res.partner", "Contact", "name, id desc", withAudit(partner),
		record{"id": 1, "name": "YourCompany", "is_company": true, "email": "info@yourcompany.com", "phone": "+1 555-555-5556", "city": "San Francisco", "country_id": 233, "type": "contact"},
		record{"id": 3, "name": "Mitchell Admin", "email": "admin@yourcompany.example.com", "phone": "+1 555-555-5555", "city": "Tracy", "country_id": 233, "type": "contact"},
		record{"id": 7, "name": "Marc Demo", "email": "mark.brown23@example.com", "city": "Fort Worth", "country_id": 233, "type": "contact"},
		record{"id": 8, "name": "Sofia Manager", "email": "sofia.manager@example.com", "city": "Tracy", "country_id": 233, "type": "contact"},
		record{"id": 10, "name": "Azure Interior", "is_company": true, "email": "azure.Interior24@example.com", "phone": "(870)-931-0505", "street": "4557 De Silva St", "city": "Fremont", "zip": "94538", "country_id": 233, "website": "http://www.azure-interior.com", "customer_rank": 3, "user_id": 2, "type": "contact"},
		record{"id": 11, "name": "Deco Addict", "is_company": true, "email": "deco_addict@example.com", "phone": "(603)-996-3829", "street": "77 Santa Barbara Rd", "city": "Pleasant Hill", "zip": "94523", "country_id": 233, "customer_rank": 2, "user_id": 2, "type": "contact"},
		record{"id": 12, "name": "Gemini Furniture", "is_company": true, "email": "gemini_furniture@fake.geminifurniture.com", "phone": "(941)-284-4875", "street": "317 Fairchild Dr", "city": "Fairfield", "zip": "94535", "country_id": 233, "customer_rank": 1, "type": "contact"},
		record{"id": 13, "name": "Lumber Inc", "is_company": true, "email": "lumber-inv92@example.com", "phone": "(828)-316-0593", "city": "Stockton", "country_id": 233, "supplier_rank": 2, "type": "contact"},
		record{"id": 14, "name": "Ready Mat", "is_company": true, "email": "ready.mat28@example.com", "phone": "(803)-873-6126", "city": "Tracy", "country_id": 233, "supplier_rank": 1, "type": "contact"},
		record{"id": 15, "name": "The Jackson Group", "is_company": true, "email": "jackson.group82@example.com", "phone": "(334)-502-1024", "city": "Los Angeles", "country_id": 233, "customer_rank": 1, "type": "contact"},
		record{"id": 16, "name": "Wood Corner", "is_company": true, "email": "wood.corner26@example.com", "phone": "(623)-853-7197", "city": "Turlock", "country_id": 233, "supplier_rank": 1, "type": "contact"},
		record{"id": 26, "name": "Brandon Freeman", "parent_id": 10, "email": "brandon.freeman55@example.com", "phone": "(355)-687-3262", "city": "Fremont", "country_id": 233, "type": "contact"},
		record{"id": 27, "name": "Colleen Diaz", "parent_id": 10, "email": "colleen.diaz83@example.com", "phone": "(255)-595-8393", "city": "Fremont", "country_id": 233, "type": "contact"},
		record{"id": 30, "name": "Douglas Fletcher", "parent_id": 11, "email": "douglas.fletcher51@example.com", "phone": "(132)-553-7242", "city": "Pleasant Hill", "country_id": 233, "type": "contact"},
		record{"id": 33, "name": "Edwin Hansen", "parent_id": 12, "email": "edwin.hansen58@example.com", "phone": "(943)-352-2555", "city": "Fairfield", "country_id": 233, "type": "contact"},
		record{"id": 40, "name": "Old Supplier Ltd", "is_company": true, "active": false, "supplier_rank": 1, "type": "contact"})

	// Products: one variant per template; the variant stores the shared fields too.
	productFields := func() map[string]*field {
		return withAudit(map[string]*field{
			"name": req(char("Name")), "default_code": char("Internal Reference"), "barcode": char("Barcode"),
			"list_price": float("Sales Price"), "standard_price": float("Cost"),
			"type":     def(selection("Product Type", "consu", "Consumable", "service", "Service", "product", "Storable Product"), "consu"),
			"categ_id": def(m2o("Product Category", "product.category"), int64(1)), "uom_id": def(m2o("Unit of Measure", "uom.uom"), int64(1)),
			"sale_ok": def(boolean("Can be Sold"), true), "purchase_ok": def(boolean("Can be Purchased"), true),
			"active": boolean("Active"), "description_sale": text("Sales Description"),
		})
	}
	onHand := func(s *Server, productIDs ...int64) float64 {
		var q float64
		for _, quant := range s.models["stock.quant"].recs {
			pid := quant["product_id"].(int64)
			locID, _ := quant["location_id"].(int64)
			l := s.models["stock.location"].get(locID)
			if l == nil || l["usage"] != "internal" {
				continue
			}
			for _, id := range productIDs {
				if pid == id {
					q += quant["quantity"].(float64)
				}
			}
		}
		return round2(q)
	}
	pp := productFields()
	pp["product_tmpl_id"] = req(m2o("Product Template", "product.template"))
	pp["qty_available"] = computed(float("Quantity On Hand"), func(s *Server, r record) any { return onHand(s, r["id"].(int64)) })
	pp["virtual_available"] = computed(float("Forecasted Quantity"), func(s *Server, r record) any {
		q := onHand(s, r["id"].(int64))
		for _, l := range s.models["sale.order.line"].recs {
			if l["product_id"] == r["id"] {
				o := s.models["sale.order"].get(l["order_id"].(int64))
				if o != nil && o["state"] == "sale" {
					q -= l["product_uom_qty"].(float64) - l["qty_delivered"].(float64)
				}
			}
		}
		return round2(q)
	})
	pt := productFields()
	pt["product_variant_ids"] = o2m("Products", "product.product", "product_tmpl_id")
	pt["qty_available"] = computed(float("Quantity On Hand"), func(s *Server, r record) any {
		var ids []int64
		for _, v := range s.models["product.product"].recs {
			if v["product_tmpl_id"] == r["id"] {
				ids = append(ids, v["id"].(int64))
			}
		}
		return onHand(s, ids...)
	})
	type prod struct {
		id          int
		name, code  string
		price, cost float64
		typ         string
		categ       int
	}
	prods := []prod{
		{5, "Desk Combination", "FURN_7800", 450, 300, "product", 8},
		{7, "Office Chair", "FURN_7777", 70, 55, "product", 8},
		{8, "Large Desk", "E-COM09", 1799, 1299, "product", 8},
		{9, "Corner Desk Right Sit", "E-COM06", 147, 600, "product", 8},
		{10, "Customizable Desk", "FURN_0096", 750, 500, "product", 8},
		{12, "Cabinet with Doors", "E-COM11", 140, 120, "product", 8},
		{13, "Conference Chair", "E-COM12", 33, 28, "product", 8},
		{15, "Office Lamp", "FURN_8888", 40, 30, "consu", 8},
		{21, "Virtual Interior Design", "", 30.75, 20.5, "service", 5},
	}
	var tmplRows, prodRows []record
	for _, p := range prods {
		base := record{"id": p.id, "name": p.name, "list_price": p.price, "standard_price": p.cost, "type": p.typ,
			"categ_id": p.categ, "uom_id": 1, "sale_ok": true, "purchase_ok": true}
		if p.code != "" {
			base["default_code"] = p.code
		}
		t, v := record{}, record{}
		for k, x := range base {
			t[k], v[k] = x, x
		}
		v["product_tmpl_id"] = p.id
		tmplRows = append(tmplRows, t)
		prodRows = append(prodRows, v)
	}
	define("product.template", "Product", "name", pt, tmplRows...)
	define("product.product", "Product Variant", "default_code, name, id", pp, prodRows...)

	quant := map[string]*field{
		"product_id": req(m2o("Product", "product.product")), "location_id": req(m2o("Location", "stock.location")),
		"quantity": float("Quantity"), "reserved_quantity": float("Reserved Quantity"),
		"available_quantity": computed(float("Available Quantity"), func(_ *Server, r record) any {
			return round2(r["quantity"].(float64) - r["reserved_quantity"].(float64))
		}),
		"warehouse_id": computed(m2o("Warehouse", "stock.warehouse"), func(s *Server, r record) any {
			l := s.models["stock.location"].get(r["location_id"].(int64))
			if l == nil {
				return int64(0)
			}
			id, _ := l["warehouse_id"].(int64)
			return id
		}),
	}
	define("stock.quant", "Quants", "location_id, id", withAudit(quant),
		record{"id": 1, "product_id": 5, "location_id": 8, "quantity": 32.0, "reserved_quantity": 2.0},
		record{"id": 2, "product_id": 7, "location_id": 8, "quantity": 48.0, "reserved_quantity": 0.0},
		record{"id": 3, "product_id": 8, "location_id": 8, "quantity": 6.0, "reserved_quantity": 1.0},
		record{"id": 4, "product_id": 9, "location_id": 8, "quantity": 12.0, "reserved_quantity": 0.0},
		record{"id": 5, "product_id": 10, "location_id": 8, "quantity": 0.0, "reserved_quantity": 0.0},
		record{"id": 6, "product_id": 12, "location_id": 8, "quantity": 20.0, "reserved_quantity": 4.0},
		record{"id": 7, "product_id": 13, "location_id": 8, "quantity": 150.0, "reserved_quantity": 10.0},
		record{"id": 8, "product_id": 15, "location_id": 8, "quantity": 25.0, "reserved_quantity": 0.0},
		record{"id": 9, "product_id": 5, "location_id": 5, "quantity": 3.0, "reserved_quantity": 0.0})

	orderSeq := func(s *Server, m *model) any { return fmt.Sprintf("S%05d", m.nextID) }
	lineSum := func(s *Server, orderID int64, field string) float64 {
		var t float64
		for _, l := range s.models["sale.order.line"].recs {
			if l["order_id"] == orderID {
				t += s.value(s.models["sale.order.line"], l, field).(float64)
			}
		}
		return round2(t)
	}
	order := withAudit(map[string]*field{
		"name":       req(&field{Type: "char", Label: "Order Reference", Default: orderSeq}),
		"partner_id": req(m2o("Customer", "res.partner")),
		"date_order": req(&field{Type: "datetime", Label: "Order Date", Default: nowDT}),
		"state":      def(selection("Status", "draft", "Quotation", "sent", "Quotation Sent", "sale", "Sales Order", "cancel", "Cancelled"), "draft"),
		"amount_untaxed": computed(monetary("Untaxed Amount"), func(s *Server, r record) any {
			return lineSum(s, r["id"].(int64), "price_subtotal")
		}),
		"amount_tax": computed(monetary("Taxes"), func(s *Server, r record) any {
			return round2(lineSum(s, r["id"].(int64), "price_total") - lineSum(s, r["id"].(int64), "price_subtotal"))
		}),
		"amount_total": computed(monetary("Total"), func(s *Server, r record) any {
			return lineSum(s, r["id"].(int64), "price_total")
		}),
		"currency_id":        def(m2o("Currency", "res.currency"), int64(1)),
		"user_id":            def(m2o("Salesperson", "res.users"), int64(2)),
		"team_id":            m2o("Sales Team", "crm.team"),
		"invoice_status":     def(selection("Invoice Status", "upselling", "Upselling Opportunity", "invoiced", "Fully Invoiced", "to invoice", "To Invoice", "no", "Nothing to Invoice"), "no"),
		"client_order_ref":   char("Customer Reference"),
		"validity_date":      date("Expiration"),
		"commitment_date":    datetime("Delivery Date"),
		"note":               html("Terms and conditions"),
		"order_line":         o2m("Order Lines", "sale.order.line", "order_id"),
		"partner_invoice_id": m2o("Invoice Address", "res.partner"),
	})
	define("sale.order", "Sales Order", "date_order desc, id desc", order,
		record{"id": 42, "name": "S00042", "partner_id": 10, "date_order": "2026-10-28 10:15:00", "state": "sale", "currency_id": 1, "user_id": 2, "team_id": 1, "invoice_status": "to invoice", "client_order_ref": "AZ-PO-2291", "commitment_date": "2026-11-20 12:00:00"},
		record{"id": 43, "name": "S00043", "partner_id": 11, "date_order": "2026-11-02 14:30:00", "state": "draft", "currency_id": 1, "user_id": 2, "team_id": 1, "invoice_status": "no", "validity_date": "2026-12-02"},
		record{"id": 44, "name": "S00044", "partner_id": 12, "date_order": "2026-11-05 09:00:00", "state": "sale", "currency_id": 1, "user_id": 6, "team_id": 1, "invoice_status": "invoiced"},
		record{"id": 45, "name": "S00045", "partner_id": 10, "date_order": "2026-11-09 16:45:00", "state": "sent", "currency_id": 1, "user_id": 2, "team_id": 5, "invoice_status": "no", "validity_date": "2026-12-09"},
		record{"id": 46, "name": "S00046", "partner_id": 15, "date_order": "2026-09-12 11:00:00", "state": "cancel", "currency_id": 1, "user_id": 6, "invoice_status": "no"})

	line := withAudit(map[string]*field{
		"order_id": req(m2o("Order Reference", "sale.order")), "product_id": m2o("Product", "product.product"),
		"name": req(text("Description")), "product_uom_qty": def(float("Quantity"), 1.0), "qty_delivered": float("Delivery Quantity"),
		"qty_invoiced": float("Invoiced Quantity"), "price_unit": float("Unit Price"), "discount": float("Discount (%)"),
		"product_uom": def(m2o("Unit of Measure", "uom.uom"), int64(1)),
		"price_subtotal": computed(monetary("Subtotal"), func(_ *Server, r record) any {
			return round2(r["product_uom_qty"].(float64) * r["price_unit"].(float64) * (1 - r["discount"].(float64)/100))
		}),
		"price_total": computed(monetary("Total"), func(_ *Server, r record) any {
			return round2(r["product_uom_qty"].(float64) * r["price_unit"].(float64) * (1 - r["discount"].(float64)/100) * 1.15)
		}),
		"state": computed(selection("Order Status", "draft", "Quotation", "sent", "Quotation Sent", "sale", "Sales Order", "cancel", "Cancelled"), func(s *Server, r record) any {
			o := s.models["sale.order"].get(r["order_id"].(int64))
			if o == nil {
				return ""
			}
			return o["state"]
		}),
	})
	for _, f := range []string{"qty_delivered", "qty_invoiced", "price_unit", "discount"} {
		line[f].Default = func(*Server, *model) any { return 0.0 }
	}
	lineRow := func(id, order, product int, name string, qty, price, delivered, invoiced float64) record {
		return record{"id": id, "order_id": order, "product_id": product, "name": name, "product_uom_qty": qty, "price_unit": price,
			"qty_delivered": delivered, "qty_invoiced": invoiced, "discount": 0.0, "product_uom": 1}
	}
	define("sale.order.line", "Sales Order Line", "order_id, id", line,
		lineRow(101, 42, 5, "[FURN_7800] Desk Combination", 2, 450, 2, 0),
		lineRow(102, 42, 7, "[FURN_7777] Office Chair", 4, 70, 4, 0),
		lineRow(103, 42, 15, "[FURN_8888] Office Lamp", 5, 40, 0, 0),
		lineRow(104, 43, 10, "[FURN_0096] Customizable Desk", 3, 750, 0, 0),
		lineRow(105, 44, 13, "[E-COM12] Conference Chair", 12, 33, 12, 12),
		lineRow(106, 44, 9, "[E-COM06] Corner Desk Right Sit", 1, 147, 1, 1),
		lineRow(107, 45, 8, "[E-COM09] Large Desk", 1, 1799, 0, 0),
		lineRow(108, 46, 12, "[E-COM11] Cabinet with Doors", 2, 140, 0, 0))

	move := withAudit(map[string]*field{
		"name":             char("Number"),
		"partner_id":       m2o("Partner", "res.partner"),
		"move_type":        req(def(selection("Type", "entry", "Journal Entry", "out_invoice", "Customer Invoice", "out_refund", "Customer Credit Note", "in_invoice", "Vendor Bill", "in_refund", "Vendor Credit Note"), "entry")),
		"state":            def(selection("Status", "draft", "Draft", "posted", "Posted", "cancel", "Cancelled"), "draft"),
		"invoice_date":     date("Invoice/Bill Date"),
		"invoice_date_due": date("Due Date"),
		"amount_untaxed":   monetary("Untaxed Amount"),
		"amount_tax":       monetary("Tax"),
		"amount_total":     monetary("Total"),
		"amount_residual":  monetary("Amount Due"),
		"payment_state":    def(selection("Payment Status", "not_paid", "Not Paid", "in_payment", "In Payment", "paid", "Paid", "partial", "Partially Paid", "reversed", "Reversed", "invoicing_legacy", "Invoicing App Legacy"), "not_paid"),
		"currency_id":      def(m2o("Currency", "res.currency"), int64(1)),
		"invoice_origin":   char("Origin"),
		"ref":              char("Reference"),
		"invoice_user_id":  m2o("Salesperson", "res.users"),
		"narration":        html("Terms and Conditions"),
		"invoice_line_ids": m2m("Invoice lines", "account.move.line"),
	})
	define("account.move.line", "Journal Item", "id", map[string]*field{"name": char("Label")})
	inv := func(id int, name string, partner int, typ, state, date, due string, untaxed, residual float64, pay, origin string) record {
		tax := round2(untaxed * 0.15)
		return record{"id": id, "name": name, "partner_id": partner, "move_type": typ, "state": state, "invoice_date": date,
			"invoice_date_due": due, "amount_untaxed": untaxed, "amount_tax": tax, "amount_total": round2(untaxed + tax),
			"amount_residual": residual, "payment_state": pay, "currency_id": 1, "invoice_origin": origin, "invoice_user_id": 2}
	}
	define("account.move", "Journal Entry", "invoice_date desc, name desc, id desc", move,
		inv(201, "INV/2026/00003", 10, "out_invoice", "posted", "2026-09-15", "2026-10-15", 1200, 0, "paid", "S00031"),
		inv(202, "INV/2026/00007", 10, "out_invoice", "posted", "2026-10-30", "2026-11-29", 1380, 1587, "not_paid", "S00042"),
		inv(203, "INV/2026/00008", 10, "out_invoice", "posted", "2026-08-20", "2026-09-19", 2500, 875, "partial", "S00028"),
		inv(204, "INV/2026/00005", 11, "out_invoice", "posted", "2026-10-05", "2026-11-04", 3150, 3622.5, "not_paid", "S00036"),
		inv(205, "INV/2026/00009", 12, "out_invoice", "posted", "2026-11-06", "2026-12-06", 543, 0, "paid", "S00044"),
		inv(206, "BILL/2026/11/0001", 13, "in_invoice", "posted", "2026-11-01", "2026-12-01", 4000, 4600, "not_paid", ""),
		inv(207, "RINV/2026/00001", 10, "out_refund", "posted", "2026-10-10", "2026-10-10", 100, 0, "paid", "INV/2026/00003"),
		record{"id": 208, "name": "", "partner_id": 15, "move_type": "out_invoice", "state": "draft", "amount_untaxed": 650.0, "amount_tax": 97.5,
			"amount_total": 747.5, "amount_residual": 747.5, "payment_state": "not_paid", "currency_id": 1})

	lead := withAudit(map[string]*field{
		"name": req(char("Opportunity")), "partner_id": m2o("Customer", "res.partner"), "partner_name": char("Company Name"),
		"contact_name": char("Contact Name"), "email_from": char("Email"), "phone": char("Phone"),
		"expected_revenue": monetary("Expected Revenue"), "probability": float("Probability"),
		"stage_id":         def(m2o("Stage", "crm.stage"), int64(1)),
		"user_id":          def(m2o("Salesperson", "res.users"), int64(2)),
		"team_id":          def(m2o("Sales Team", "crm.team"), int64(1)),
		"type":             req(def(selection("Type", "lead", "Lead", "opportunity", "Opportunity"), "opportunity")),
		"date_deadline":    date("Expected Closing"),
		"priority":         def(selection("Priority", "0", "Low", "1", "Medium", "2", "High", "3", "Very High"), "0"),
		"active":           boolean("Active"),
		"description":      html("Notes"),
		"company_currency": computed(m2o("Currency", "res.currency"), func(*Server, record) any { return int64(1) }),
	})
	define("crm.lead", "Lead/Opportunity", "priority desc, id desc", lead,
		record{"id": 1, "name": "Office Design Project", "partner_id": 10, "partner_name": "Azure Interior", "contact_name": "Brandon Freeman", "email_from": "brandon.freeman55@example.com", "expected_revenue": 24000.0, "probability": 30.0, "stage_id": 2, "user_id": 2, "team_id": 1, "type": "opportunity", "priority": "2", "date_deadline": "2026-12-15"},
		record{"id": 2, "name": "Furnitures for new office", "partner_id": 11, "partner_name": "Deco Addict", "expected_revenue": 5600.0, "probability": 10.0, "stage_id": 1, "user_id": 6, "team_id": 1, "type": "opportunity", "priority": "1"},
		record{"id": 3, "name": "Quote for 150 carpets", "partner_id": 15, "partner_name": "The Jackson Group", "expected_revenue": 40000.0, "probability": 60.0, "stage_id": 3, "user_id": 2, "team_id": 1, "type": "opportunity", "priority": "3", "date_deadline": "2026-11-30"},
		record{"id": 4, "name": "Info about services", "contact_name": "Julia Rivero", "email_from": "julia@example.com", "expected_revenue": 0.0, "probability": 5.0, "stage_id": 1, "user_id": 0, "team_id": 5, "type": "lead", "priority": "0"},
		record{"id": 5, "name": "Need 20 Desks", "partner_id": 12, "partner_name": "Gemini Furniture", "expected_revenue": 9000.0, "probability": 100.0, "stage_id": 4, "user_id": 2, "team_id": 1, "type": "opportunity", "priority": "1"})

	task := withAudit(map[string]*field{
		"name": req(char("Title")), "project_id": m2o("Project", "project.project"), "user_ids": m2m("Assignees", "res.users"),
		"stage_id":      def(m2o("Stage", "project.task.type"), int64(1)),
		"date_deadline": datetime("Deadline"),
		"priority":      def(selection("Priority", "0", "Low", "1", "High"), "0"),
		"state":         def(selection("Status", "01_in_progress", "In Progress", "02_changes_requested", "Changes Requested", "03_approved", "Approved", "04_waiting_normal", "Waiting", "1_done", "Done", "1_canceled", "Canceled"), "01_in_progress"),
		"description":   html("Description"),
		"partner_id":    m2o("Customer", "res.partner"),
		"active":        boolean("Active"),
	})
	define("project.task", "Task", "priority desc, id desc", task,
		record{"id": 1, "name": "Meeting Room Furnitures", "project_id": 1, "user_ids": []int{2}, "stage_id": 2, "priority": "1", "state": "01_in_progress", "partner_id": 10, "date_deadline": "2026-11-25 17:00:00"},
		record{"id": 2, "name": "Office planning", "project_id": 1, "user_ids": []int{2, 6}, "stage_id": 1, "priority": "0", "state": "04_waiting_normal", "partner_id": 10},
		record{"id": 3, "name": "Customer review", "project_id": 2, "user_ids": []int{6}, "stage_id": 3, "priority": "0", "state": "1_done"})
	return ms
}
