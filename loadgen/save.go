package loadgen

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
)

// SaveFortioJSON writes fortio's result of res to dir/name.json, the layout
// `fortio report -data-dir dir` browses. An empty name uses fortio's run ID.
func SaveFortioJSON(dir, name string, res *Result) (string, error) {
	if name == "" {
		name = res.Fortio().Result().ID
	}
	data, err := res.FortioJSON()
	if err != nil {
		return "", fmt.Errorf("encode fortio result: %w", err)
	}
	return writeFile(dir, name+".json", data)
}

// SaveJSON writes v, indented, to dir/name.
func SaveJSON(dir, name string, v any) (string, error) {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return "", err
	}
	return writeFile(dir, name, append(data, '\n'))
}

func writeFile(dir, name string, data []byte) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		return "", err
	}
	return path, nil
}
