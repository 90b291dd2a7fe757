package cmd

import (
	"io"

	"github.com/proxysizer/proxysizer/sizing"
)

func writePlan(w io.Writer, format string, p sizing.Plan, in sizing.Input) error {
	switch format {
	case "json":
		return writeJSON(w, p)
	case "yaml":
		return writeYAML(w, p)
	case "manifests":
		data, err := sizing.Manifests(p, in)
		if err != nil {
			return err
		}
		_, err = w.Write(data)
		return err
	default:
		return p.WriteTable(w)
	}
}
