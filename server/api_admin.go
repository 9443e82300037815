package server

import (
	"net/http"
	"strings"

	"github.com/ethpandaops/dispatchoor/store"
)

func (s *Server) listAudit(w http.ResponseWriter, r *http.Request) error {
	limit, err := queryLimit(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	p, err := s.store.ListAudit(r.Context(), store.AuditQuery{
		Cursor: q.Get("cursor"), Limit: limit, Actor: q.Get("actor"), Action: q.Get("action"),
	})
	if err != nil {
		return err
	}
	if p.Items == nil {
		p.Items = []store.AuditEntry{}
	}
	writeJSON(w, http.StatusOK, p)
	return nil
}

func (s *Server) listTokens(w http.ResponseWriter, r *http.Request) error {
	ts, err := s.store.ListTokens(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, list(ts))
	return nil
}

type createTokenRequest struct {
	Name string `json:"name"`
	Role string `json:"role"`
}

// createdToken carries the token's secret; this is the only time it is
// ever shown (only its SHA-256 is stored).
type createdToken struct {
	store.APIToken
	Token string `json:"token"`
}

func (s *Server) createToken(w http.ResponseWriter, r *http.Request) error {
	var req createTokenRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	req.Name = strings.TrimSpace(req.Name)
	if req.Name == "" || len(req.Name) > 100 {
		return badRequest("name", "want 1 to 100 characters")
	}
	if req.Role != roleAdmin && req.Role != roleReadonly {
		return badRequest("role", "%q: want admin or readonly", req.Role)
	}
	p := principalFrom(r.Context())
	secret := tokenPrefix + newSecret()
	t, err := s.store.CreateToken(r.Context(), store.NewToken{
		Name: req.Name, Role: req.Role, Hash: store.HashSecret(secret), CreatedBy: p.Name,
	})
	if err != nil {
		return err
	}
	s.audit(r, p.Name, "token_create", "token:"+t.Name, map[string]any{"id": t.ID, "role": t.Role})
	writeJSON(w, http.StatusCreated, createdToken{APIToken: t, Token: secret})
	return nil
}

func (s *Server) revokeToken(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	t, err := s.store.RevokeToken(r.Context(), id)
	if err != nil {
		return err
	}
	s.hub.CloseClients(tokenKey(t.ID), "token revoked")
	s.audit(r, principalFrom(r.Context()).Name, "token_revoke", "token:"+t.Name, map[string]any{"id": t.ID})
	w.WriteHeader(http.StatusNoContent)
	return nil
}
