package odoosim

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"sort"
)

// Groups the simulator knows, named as Odoo names them (module.xml_id).
// What each grants is in access.go.
const (
	// GroupSystem is Administration/Settings: every model, no record rule
	// (the service account, like an Odoo admin).
	GroupSystem = "base.group_system"
	// GroupUser is Internal User: contacts, products, stock, projects and
	// reference data.
	GroupUser = "base.group_user"
	// GroupSalesman is Sales/User: Own Documents Only — sale orders and
	// leads where they are the salesperson.
	GroupSalesman = "sales_team.group_sale_salesman"
	// GroupSaleManager is Sales/Administrator: every order and lead.
	GroupSaleManager = "sales_team.group_sale_manager"
	// GroupInvoice is Invoicing/Billing: invoices and bills.
	GroupInvoice = "account.group_account_invoice"
)

// Account is one Odoo user as the simulator knows it.
type Account struct {
	UID   int64
	Login string
	Name  string
	Email string
	// Password works for authenticate and execute_kw; APIKey works there
	// too and as the JSON-2 bearer token (Preferences → Account Security).
	Password string
	APIKey   string
	Groups   []string
}

// user is an account with its live credentials.
type user struct {
	Account
	keys map[string]bool
}

func (u *user) has(group string) bool {
	for _, g := range u.Groups {
		if g == group {
			return true
		}
	}
	return false
}

// secret reports whether p is this user's password or one of its API keys.
func (u *user) secret(p string) bool {
	return p != "" && (p == u.Password || u.keys[p])
}

// Logins of the demo users besides the service account (Server.User).
const (
	// SalespersonLogin is Marc Demo (uid 6): own orders and leads only, no
	// invoices.
	SalespersonLogin = "demo"
	// ManagerLogin is Sofia Manager (uid 7): every order, lead and invoice.
	ManagerLogin = "sofia"
)

// demoUsers are the users of the demo database; the service account's
// password is the Server's.
func demoUsers(servicePassword string) map[string]*user {
	us := []*user{
		{Account: Account{UID: 2, Login: "admin", Name: "Mitchell Admin", Email: "admin@yourcompany.example.com",
			Password: servicePassword, APIKey: servicePassword, Groups: []string{GroupSystem, GroupUser, GroupSaleManager, GroupInvoice}}},
		{Account: Account{UID: 6, Login: SalespersonLogin, Name: "Marc Demo", Email: "mark.brown23@example.com",
			Password: "demo", APIKey: "sim-demo-key-0b61d2c4e8", Groups: []string{GroupUser, GroupSalesman}}},
		{Account: Account{UID: 7, Login: ManagerLogin, Name: "Sofia Manager", Email: "sofia.manager@example.com",
			Password: "sofia", APIKey: "sim-sofia-key-5d93a7f01c", Groups: []string{GroupUser, GroupSalesman, GroupSaleManager, GroupInvoice}}},
	}
	out := map[string]*user{}
	for _, u := range us {
		u.keys = map[string]bool{u.APIKey: true}
		out[u.Login] = u
	}
	return out
}

// Account returns the demo user with that login (zero Account if none).
func (s *Server) Account(login string) Account {
	s.mu.Lock()
	defer s.mu.Unlock()
	if u := s.users[login]; u != nil {
		return u.Account
	}
	return Account{}
}

// Accounts lists the users, by uid.
func (s *Server) Accounts() []Account {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Account, 0, len(s.users))
	for _, u := range s.users {
		out = append(out, u.Account)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].UID < out[j].UID })
	return out
}

// NewAPIKey creates another API key for login, as the user would under
// Preferences → Account Security, and returns it.
func (s *Server) NewAPIKey(login string) string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	key := "sim-key-" + hex.EncodeToString(b[:])
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.users[login]
	if u == nil {
		panic(fmt.Sprintf("odoosim: no user %q", login))
	}
	u.keys[key] = true
	return key
}

// RevokeAPIKey deletes one of login's API keys: calls with it are refused
// from now on.
func (s *Server) RevokeAPIKey(login, key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if u := s.users[login]; u != nil {
		delete(u.keys, key)
	}
}

// userByLogin returns the user whose password or API key is secret.
func (s *Server) userByLogin(login, secret string) *user {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.users[login]
	if u == nil || !u.secret(secret) {
		return nil
	}
	return u
}

// userByUID checks execute_kw's (uid, password) pair.
func (s *Server) userByUID(uid int64, secret string) *user {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, u := range s.users {
		if u.UID == uid && u.secret(secret) {
			return u
		}
	}
	return nil
}

// userByKey finds the owner of a JSON-2 bearer API key (passwords do not
// work there, as in Odoo).
func (s *Server) userByKey(key string) *user {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, u := range s.users {
		if key != "" && u.keys[key] {
			return u
		}
	}
	return nil
}
