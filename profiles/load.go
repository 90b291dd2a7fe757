package profiles

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/proxysizer/proxysizer/internal/safefile"
)

//go:embed reference/*.yaml
var referenceFS embed.FS

// DefaultName is the profile plan uses when none is given: the newest Istio
// reference figures for a sidecar.
const DefaultName = "istio-1.24-sidecar"

// ErrUnknown is returned for a name that is neither a reference profile nor a file.
var ErrUnknown = errors.New("unknown profile")

// Reference returns the embedded reference profiles, oldest Istio release first.
func Reference() ([]Profile, error) {
	entries, err := fs.ReadDir(referenceFS, "reference")
	if err != nil {
		return nil, err
	}
	var out []Profile
	for _, e := range entries {
		data, err := referenceFS.ReadFile(path.Join("reference", e.Name()))
		if err != nil {
			return nil, err
		}
		p, err := Parse(data)
		if err != nil {
			return nil, fmt.Errorf("embedded profile %s: %w", e.Name(), err)
		}
		out = append(out, p)
	}
	sort.SliceStable(out, func(i, j int) bool { return olderFirst(out[i], out[j]) })
	return out, nil
}

// olderFirst orders profiles by the first Istio release they cover, then name.
func olderFirst(a, b Profile) bool {
	var aMajor, aMinor, bMajor, bMinor int
	fmt.Sscanf(a.Provenance.IstioVersions, "%d.%d", &aMajor, &aMinor)
	fmt.Sscanf(b.Provenance.IstioVersions, "%d.%d", &bMajor, &bMinor)
	if aMajor != bMajor || aMinor != bMinor {
		return aMajor < bMajor || aMajor == bMajor && aMinor < bMinor
	}
	return a.Name < b.Name
}

// Parse reads a profile from YAML (or JSON), rejecting unknown fields so that a
// typo never silently falls back to a zero, and numbers outside their
// ranges (bounds.go) so that no figure sizes from an absurd or infinite one.
func Parse(data []byte) (Profile, error) {
	var p Profile
	if err := yaml.UnmarshalStrict(data, &p); err != nil {
		return Profile{}, fmt.Errorf("not a valid profile: %s", firstLine(err.Error()))
	}
	if err := p.Validate(); err != nil {
		return Profile{}, err
	}
	if err := checkRanges(p); err != nil {
		return Profile{}, err
	}
	return p, nil
}

// Load resolves a reference profile name, or else reads a profile file.
func Load(nameOrFile string) (Profile, error) {
	refs, err := Reference()
	if err != nil {
		return Profile{}, err
	}
	for _, p := range refs {
		if p.Name == nameOrFile {
			return p, nil
		}
	}
	// A regular file of bounded size only: --profile /dev/zero would read
	// forever, a named pipe would block.
	data, err := safefile.ReadFile(nameOrFile, safefile.MaxProfile)
	if errors.Is(err, fs.ErrNotExist) {
		return Profile{}, fmt.Errorf("%w %q: not a reference profile (see `proxysizer profiles list`) and no such file", ErrUnknown, nameOrFile)
	}
	var bad *safefile.Error
	if errors.As(err, &bad) {
		return Profile{}, fmt.Errorf("profile file %v", err)
	}
	if err != nil {
		return Profile{}, fmt.Errorf("%w %q: %v", ErrUnknown, nameOrFile, err)
	}
	p, err := Parse(data)
	if err != nil {
		return Profile{}, fmt.Errorf("profile file %s: %w", nameOrFile, err)
	}
	return p, nil
}

// Marshal renders a profile as YAML, the format Parse reads.
func Marshal(p Profile) ([]byte, error) { return yaml.Marshal(p) }

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
