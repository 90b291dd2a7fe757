package cmd

import (
	"encoding/json"
	"io"

	"sigs.k8s.io/yaml"
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

// writeAs writes v as JSON or YAML, and in any other format through text
// (a table, manifests).
func writeAs(w io.Writer, format string, v any, text func(io.Writer) error) error {
	switch format {
	case "json":
		return writeJSON(w, v)
	case "yaml":
		return writeYAML(w, v)
	}
	return text(w)
}
