// Package replies is the catalogue of real replies that mail providers
// send: each with a stable name (office365.auth.basic_disabled), the text
// exactly as it was seen, the command it answers, what causes it, what it
// means and how to fix it, and where it was seen.
//
// The catalogue is data (data/*.yaml, one file per provider, embedded and
// decoded strictly). Provenance is required: an entry either has a
// source (a public URL or document) and the date it was seen, or says
// from: rfc (written from the RFCs) or from: memory (the provider's usual
// wording, not seen verbatim in public). The sandbox sends catalogue
// replies by name and explain recognises them in pasted text, so one copy
// of each text serves both.
package replies
