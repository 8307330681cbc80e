// Package safefile creates output files without following links planted
// by someone else, refuses directories another user controls, and reads
// inputs within a size limit, a deadline and an interrupt.
//
// Every file smtprun writes (recordings, reports, saved messages, fmt -w)
// goes through Create or Replace, and every script, include, variables
// file and CA file it reads goes through Read, so the rules hold in one
// place:
//
//   - A directory written into must be owned by the user running smtprun
//     or by root, and not writable by other users unless it is sticky
//     (as /tmp is): otherwise another user can swap what is written for a
//     link to the victim's ~/.bashrc. The same holds for every directory
//     above it, and for every symbolic link on the way.
//   - A new file is created with O_EXCL|O_NOFOLLOW; a file that is
//     replaced is written to a temporary file in the same directory and
//     renamed over the old one, which replaces a link instead of writing
//     through it.
//   - A read has a size limit per kind of input (a FIFO or /dev/zero ends
//     in an error, not in all of memory), and opening and each read honour
//     a timeout and a context.
package safefile
