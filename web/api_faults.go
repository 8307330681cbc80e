package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/smtprun/smtprun/sandbox/fault"
)

// FaultPlan is a fault plan as the API shows it.
type FaultPlan struct {
	Plan  string `json:"plan"`
	Fired int    `json:"fired"`
	Spent bool   `json:"spent"`
}

// faultPlans is the body of GET and PUT /api/v1/faults.
type faultPlans struct {
	Plans []FaultPlan `json:"plans"`
}

func (s *Server) getFaults(w http.ResponseWriter, r *http.Request) {
	out := faultPlans{Plans: []FaultPlan{}}
	for _, p := range s.faults.List() {
		out.Plans = append(out.Plans, FaultPlan{Plan: esc(p.Source), Fired: p.Fired, Spent: p.Spent})
	}
	writeJSON(w, http.StatusOK, out)
}

// putFaults replaces every plan (their counts start again), all or none:
// one that does not parse leaves the plans as they were.
func (s *Server) putFaults(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Plans []string `json:"plans"`
	}
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil {
		writeError(w, http.StatusBadRequest, `the body must be {"plans": ["rcpt#1=550 5.1.1 No such user", ...]}: `+esc(err.Error()))
		return
	}
	var plans []fault.Plan
	for i, src := range body.Plans {
		if strings.TrimSpace(src) == "" {
			continue
		}
		p, err := fault.Parse(strings.TrimSpace(src))
		if err != nil {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("plan %d: %s", i+1, esc(err.Error())))
			return
		}
		plans = append(plans, p)
	}
	s.faults.Set(plans...)
	s.hub.publish(change{Kind: "faults"})
	s.getFaults(w, r)
}

func (s *Server) deleteFaults(w http.ResponseWriter, r *http.Request) {
	s.faults.Clear()
	s.deleted(w, "faults", "")
}
