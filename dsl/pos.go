package dsl

// Pos is a place in a script: the file as given to Parse, the byte
// offset from the start of the file, and the line and column (in bytes),
// both from 1. It is smtprun's own type, converted from the parser's at
// lowering, so a program using dsl, engine or their errors depends on
// this package alone.
type Pos struct {
	Filename string
	Offset   int
	Line     int
	Column   int
}

// String is the position as file:line:col, as Where writes it.
func (p Pos) String() string { return Where(p) }
