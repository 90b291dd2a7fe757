package charts

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io/fs"
)

// The directory, not the file, is embedded: assets/README.md is committed, so
// `go vet` and `go build` work before the script is fetched, and Script says
// what is missing instead of the page drawing nothing.
//
//go:embed assets
var assets embed.FS

const scriptPath = "assets/echarts.min.js"

// ErrNoScript means this build was made without fetching ECharts.
var ErrNoScript = errors.New("this build has no ECharts script (charts/assets/echarts.min.js): fetch it with `make echarts` (scripts/fetch-echarts.sh) and rebuild")

// Script returns the embedded ECharts script.
func Script() ([]byte, error) {
	data, err := assets.ReadFile(scriptPath)
	if errors.Is(err, fs.ErrNotExist) || (err == nil && len(data) == 0) {
		return nil, ErrNoScript
	}
	if err != nil {
		return nil, err
	}
	// The script is inlined in a <script> element: a closing tag or a comment
	// opener inside it would end or derail the element early.
	low := bytes.ToLower(data)
	if bytes.Contains(low, []byte("</script")) || bytes.Contains(low, []byte("<!--")) {
		return nil, fmt.Errorf("%s contains </script or <!-- and cannot be inlined", scriptPath)
	}
	return data, nil
}
