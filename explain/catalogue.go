package explain

import (
	"slices"
	"strings"

	"github.com/smtprun/smtprun/internal/replies"
)

// KindProviderReply is an Entry for one real reply of the catalogue
// (internal/replies): Topic is its name, Provider its provider.
const KindProviderReply = "provider-reply"

// catalogueReply finds the catalogue reply a text is, from the provider
// the text names when it names one; false when none matches. A part of a
// reply counts only when the provider is known or the text has no code
// (a phrase copied out of a message): otherwise a generic text would be
// taken for the one provider in the catalogue that sends it.
func (k *kb) catalogueReply(text, prov string) (replies.Reply, bool) {
	found := replies.MatchWhole(text)
	if _, coded := replyLine(strings.TrimSpace(text)); len(found) == 0 && (prov != "" || !coded) {
		found = replies.Match(text)
	}
	for _, r := range found {
		if prov == "" || r.Brand == prov {
			return r, true
		}
	}
	return replies.Reply{}, false
}

// catalogueEntry explains a catalogue reply: what the provider means by
// it, what causes it, and where the text was seen.
func (k *kb) catalogueEntry(r replies.Reply) Entry {
	text := r.Meaning
	if r.Cause != "" {
		text += " Cause: " + r.Cause
	}
	if r.Note != "" {
		text += " Note: " + r.Note
	}
	return Entry{
		Topic:    r.Name,
		Kind:     KindProviderReply,
		Provider: r.Brand,
		Title:    k.providerTitle(r.Brand) + ": " + summary(r),
		Text:     text,
		Source:   r.Provenance(),
	}
}

// catalogueHints keeps the hints of the reply's provider (they say what
// to do with smtprun), then adds the reply's own fix; general hints (RFC
// meanings) are left out, since the provider's use of the code is known.
func (k *kb) catalogueHints(r replies.Reply, found []Hint) []Hint {
	var out []Hint
	for _, h := range found {
		i := slices.IndexFunc(k.hints, func(x hint) bool { return x.ID == h.ID })
		if i >= 0 && k.hints[i].provider == r.Brand {
			out = append(out, h)
		}
	}
	return append(out, Hint{ID: r.Name, Text: r.Fix, Source: r.Provenance()})
}

// withCatalogue rewrites the explanation of a reply the catalogue knows:
// its entry comes first, and the general meanings of its codes say that
// the provider uses them its own way.
func (k *kb) withCatalogue(r replies.Reply, entries []Entry, hints []Hint) ([]Entry, []Hint) {
	out := []Entry{k.catalogueEntry(r)}
	for _, e := range entries {
		if (e.Kind == KindReply || e.Kind == KindEnhanced) && e.Provider == "" {
			e.Text += " (That is the code's general meaning; " + k.providerTitle(r.Brand) + " uses it as explained above.)"
		}
		out = append(out, e)
	}
	return out, k.catalogueHints(r, hints)
}

// summary is the reply's first line of text, without the codes, short.
func summary(r replies.Reply) string {
	s := r.Lines[0]
	if len(s) > 4 {
		s = s[4:]
	}
	if r.Enhanced != "" {
		s = strings.TrimSpace(strings.TrimPrefix(s, r.Enhanced))
	}
	if len(s) > 90 {
		s = s[:87] + "..."
	}
	return s
}
