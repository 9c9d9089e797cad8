package ops

import (
	"errors"
	"io"
)

// Console is the terminal an operator command talks to: where results and
// messages go, whether questions can be asked, colours and width. The
// binary builds it from the process' stdio; tests give buffers.
type Console struct {
	Out, Err io.Writer
	In       io.Reader
	// Interactive: In is a terminal, so a confirmation can be asked.
	Interactive bool
	Color       bool
	Width       int
}

// Confirm asks question on the terminal unless yes; without a terminal it
// refuses, naming the flag that confirms.
func (c Console) Confirm(yes bool, question string) error {
	if yes {
		return nil
	}
	if !c.Interactive {
		return errors.New("stdin is not a terminal: pass --yes to confirm")
	}
	return Confirm(c.In, c.Err, question)
}

// Emit prints v as JSON when asJSON, else with text.
func (c Console) Emit(asJSON bool, v any, text func(io.Writer)) error {
	if asJSON {
		return JSON(c.Out, v)
	}
	text(c.Out)
	return nil
}
