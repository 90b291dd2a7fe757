package cmd

import (
	"io"

	"github.com/proxysizer/proxysizer/sizing"
)

func writePlan(w io.Writer, format string, p sizing.Plan, in sizing.Input) error {
	if format != "manifests" {
		return writeAs(w, format, p, p.WriteTable)
	}
	data, err := sizing.Manifests(p, in)
	if err != nil {
		return err
	}
	_, err = w.Write(data)
	return err
}
