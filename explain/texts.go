package explain

// The fixed sentences that glue data entries together or stand in when a
// code or keyword is not listed in the data files. Explanations themselves
// live in data/*.yaml.
const (
	titleNotReplyCode = "Not an SMTP reply code"
	textNotReplyCode  = "SMTP reply codes have three digits and start with 2, 3, 4 or 5."

	// code, class text, category text
	textUnlistedReply   = "%d is not a code the RFCs define, so read it digit by digit. %s %s"
	textUnknownCategory = "The second digit %d has no defined meaning."

	// subject text, X.s.d, class note
	textUnlistedDetail = "%s %s is not in the IANA registry, so only the class and subject tell the meaning. %s"
	// class text, subject
	textUnknownSubject = "%s The subject %d is not defined by RFC 3463."

	// X.s.d, IANA title
	textIANAMeaning = " (IANA meaning of %s: %s.)"
	textNotIANA     = " (%s is not in the IANA registry.)"

	titlePrivateKeyword = "Private extension"
	textPrivateKeyword  = "Keywords starting with X are local, non-standard extensions; only clients written for this server use them."

	textPrivateMechanism = "%s is a private (X-) mechanism of this server."
	textUnknownMechanism = "%s is a mechanism this explainer does not know."
	textInitialResponse  = "The rest of the line is the initial response, in base64."

	textNoSizeLimit  = "No fixed limit is announced."
	textSizeLimit    = "Here: %s bytes, about %.1f MB (%.1f MiB)."
	textNotANumber   = "The value %q is not a number."
	textNoMechanisms = "No mechanisms are listed."
	textOffered      = "Offered: "
	textPrivate      = "private"
	textUnknown      = "not known here"
	textSeconds      = "Here: at least %d seconds."
	textHere         = "Here: "
)
