package cluster

import (
	"errors"
	"os"

	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/proxysizer/proxysizer/internal/input"
)

// The inputs of a restore, as its problems name them.
const (
	FieldJournal    input.Field = "journal"
	FieldDeployment input.Field = "deployment"
	FieldNamespace  input.Field = "namespace"
)

// RestoreRequest names the journal of the sweep to undo: a file, or the
// default journal of a Deployment (DefaultJournalPath).
type RestoreRequest struct {
	Journal               string
	Deployment, Namespace string
	Names                 input.Names
}

// JournalPath checks the request and returns the journal to restore
// from, which must exist and read as a journal. Each problem is an
// *input.Error naming its field.
func (r RestoreRequest) JournalPath() (string, error) {
	n := r.Names
	journal := r.Journal
	switch {
	case r.Journal != "" && r.Deployment != "":
		return "", n.Errorf(FieldDeployment, "give either %s or %s (with %s), not both", FieldJournal, FieldDeployment, FieldNamespace)
	case r.Journal == "" && r.Deployment == "":
		return "", n.Errorf(FieldJournal, "required: the journal file of the sweep to undo (or %s with %s for its default journal)", FieldDeployment, FieldNamespace)
	case r.Journal == "":
		if len(validation.IsDNS1123Subdomain(r.Deployment)) > 0 {
			return "", n.Errorf(FieldDeployment, "expected a Deployment name, got %q", r.Deployment)
		}
		if r.Namespace == "" {
			return "", n.Errorf(FieldNamespace, "required with %s: the Deployment's namespace", FieldDeployment)
		}
		journal = DefaultJournalPath(r.Namespace, r.Deployment)
	}
	if _, err := ReadJournal(journal); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return "", n.Errorf(FieldJournal, "no journal at %s", journal)
		}
		return "", n.Errorf(FieldJournal, "%v", err)
	}
	return journal, nil
}
