package ecsdouble

import (
	"context"
	"fmt"
	"maps"
	"net"
	"net/http"
	"slices"
	"sync"
	"time"
)

// Issued is an AccessKey that belongs to one account: a permanent one, or
// temporary credentials the STS double (lib/orgdouble) issued for a role
// in that account.
type Issued struct {
	Account         string
	AccessKeyID     string
	AccessKeySecret string
	SecurityToken   string    // "" for a permanent AccessKey
	Expiration      time.Time // zero: never
}

// Registry is the credentials of every account, shared by the STS double
// that issues them and the ECS double that accepts them. It is safe for
// concurrent use.
type Registry struct {
	mu   sync.Mutex
	byID map[string]Issued
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry { return &Registry{byID: map[string]Issued{}} }

// Add registers an AccessKey for its account.
func (r *Registry) Add(c Issued) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.byID[c.AccessKeyID] = c
}

// Lookup finds an AccessKey by its ID.
func (r *Registry) Lookup(akID string) (Issued, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	c, ok := r.byID[akID]
	return c, ok
}

// Secret is Lookup as VerifyRequest reads it.
func (r *Registry) Secret(akID string) (Secret, bool) {
	c, ok := r.Lookup(akID)
	return Secret{AccessKeySecret: c.AccessKeySecret, SecurityToken: c.SecurityToken, Expiration: c.Expiration}, ok
}

// WithAccount makes the double account's: besides the credentials given to
// it, it accepts those reg holds for account, and no other account's.
func WithAccount(account string, reg *Registry) Option {
	return func(c *config) { c.account, c.registry = account, reg }
}

// Accounts is an ECS/VPC double with one fleet per account behind one
// endpoint: a call is served by the account its AccessKey belongs to (in
// the registry), with that account's fleet, faults and rate limits, so
// one account's credentials can never read or write another's. A key
// the registry does not hold answers 404 InvalidAccessKeyId.NotFound.
type Accounts struct {
	hs       *http.Server
	host     string
	registry *Registry
	servers  map[string]*Server
}

// StartAccounts serves one fleet per account on 127.0.0.1 until Close.
// opts apply to every account's double.
func StartAccounts(fleets map[string]Fleet, reg *Registry, opts ...Option) (*Accounts, error) {
	a := &Accounts{registry: reg, servers: map[string]*Server{}}
	for _, id := range slices.Sorted(maps.Keys(fleets)) {
		s, err := newServer(fleets[id], append(slices.Clone(opts), WithAccount(id, reg))...)
		if err != nil {
			return nil, fmt.Errorf("account %s: %w", id, err)
		}
		a.servers[id] = s
	}
	ln, err := (&net.ListenConfig{}).Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("ecsdouble: listen: %w", err)
	}
	a.host = ln.Addr().String()
	for _, s := range a.servers {
		s.host = a.host
	}
	a.hs = &http.Server{Handler: http.HandlerFunc(a.serveHTTP), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = a.hs.Serve(ln) }()
	return a, nil
}

// URL is the base URL, "http://127.0.0.1:PORT".
func (a *Accounts) URL() string { return "http://" + a.host }

// Host is "127.0.0.1:PORT".
func (a *Accounts) Host() string { return a.host }

// Close stops the server.
func (a *Accounts) Close() { _ = a.hs.Close() }

// Account is one account's double (its calls, releases, faults); nil when
// the account has no fleet here.
func (a *Accounts) Account(id string) *Server { return a.servers[id] }

// IDs are the accounts served, sorted.
func (a *Accounts) IDs() []string { return slices.Sorted(maps.Keys(a.servers)) }

// AddCredential registers a permanent AccessKey (securityToken "") or STS
// credentials of account.
func (a *Accounts) AddCredential(account, akID, secret, securityToken string) {
	a.registry.Add(Issued{Account: account, AccessKeyID: akID, AccessKeySecret: secret, SecurityToken: securityToken})
}

func (a *Accounts) serveHTTP(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err == nil {
		if c, ok := a.registry.Lookup(r.Form.Get("AccessKeyId")); ok {
			if s := a.servers[c.Account]; s != nil {
				s.serveHTTP(w, r)
				return
			}
		}
	}
	// No account of this double: any of them answers, as it knows no such key.
	e := errf(404, "InvalidAccessKeyId.NotFound", "Specified access key is not found.")
	for _, id := range a.IDs() {
		s := a.servers[id]
		s.writeDate(w)
		rep := errorReply(s.newRequestID(), e)
		w.Header().Set("Content-Type", "application/json;charset=utf-8")
		w.WriteHeader(rep.status)
		_, _ = w.Write(rep.body)
		return
	}
	http.Error(w, "no accounts", http.StatusInternalServerError)
}
