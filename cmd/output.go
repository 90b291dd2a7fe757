package cmd

import (
	"encoding/json"
	"io"

	"sigs.k8s.io/yaml"

	"github.com/proxysizer/proxysizer/internal/textfmt"
)

// num and list print a figure and a titled list as every text output
// does.
var (
	num  = textfmt.Figure
	list = textfmt.List
)

// writeJSON writes v as indented JSON, the form the README's contracts use.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// writeYAML writes v as YAML with the same field names as its JSON.
func writeYAML(w io.Writer, v any) error {
	data, err := yaml.Marshal(v)
	if err != nil {
		return err
	}
	_, err = w.Write(data)
	return err
}
