package cmd

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/proxysizer/proxysizer/driver/local"
	"github.com/proxysizer/proxysizer/results"
)

func init() { register(newCleanupCmd) }

func newCleanupCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "cleanup",
		Short: "Remove what a killed sweep left behind: cgroups, proxy processes, a sweep.json stuck at running",
		Long: `A sweep removes its cgroups and stops its proxies when it ends, fails or is
interrupted. Killed with SIGKILL it cannot: its proxies die with it (they get
SIGKILL when their parent dies), and cleanup, or the next sweep, removes the
cgroups and kills any process group recorded in the dead sweep's state file.
Its sweep.json still says "running": cleanup marks it interrupted (the next
'sweep --resume' does the same). Sweeps that are still running are left alone.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			h, _ := local.DetectHierarchy(local.DefaultCgroupRoot) // without cgroups there are only processes to clean
			done, err := local.Cleanup(h)
			repaired, repairErr := results.RepairCrashed()
			done, err = append(done, repaired...), errors.Join(err, repairErr)
			for _, line := range done {
				fmt.Fprintln(c.OutOrStdout(), line)
			}
			if len(done) == 0 && err == nil {
				fmt.Fprintln(c.OutOrStdout(), "nothing to clean up")
			}
			return err
		},
	}
}
