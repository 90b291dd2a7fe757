package cmd

import (
	"path/filepath"
	"testing"

	"github.com/proxysizer/proxysizer/internal/fsguard"
)

// Class: input files. Every file a command reads is a regular file of
// bounded size (or, for manifests and mesh configurations, a pipe, read to
// a bound); a device, a named pipe nobody writes, a directory or a huge
// file is refused at once, naming the flag and the file.
func TestHostileInputFiles(t *testing.T) {
	n := fsguard.MakeNodes(t)
	base := t.TempDir()
	bigProfile := fsguard.Sparse(t, filepath.Join(base, "big-profile.yaml"), 2<<20)
	bigJournal := fsguard.Sparse(t, filepath.Join(base, "big-journal.json"), 2<<20)
	bigKubeconfig := fsguard.Sparse(t, filepath.Join(base, "big-kubeconfig"), 17<<20)
	bigManifest := fsguard.Sparse(t, filepath.Join(base, "big.yaml"), 33<<20)
	bigToken := fsguard.Sparse(t, filepath.Join(base, "big-token"), 65<<10)
	manifests := filepath.Join(base, "manifests")
	writeFiles(t, map[string]string{filepath.Join(manifests, "ns.yaml"): "apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n"})
	symlink(t, n.Zero, filepath.Join(manifests, "zero.yaml"))
	trees := []string{base, n.Dir}

	plan := func(profile string) []string { return []string{"plan", "--rps-per-pod", "100", "--profile", profile} }
	restore := func(journal string) []string { return []string{"restore", "--journal", journal} }
	hpa := func(kubeconfig string) []string {
		return []string{"hpa", "-n", "shop", "web", "--kubeconfig", kubeconfig}
	}
	kubeSweep := []string{"sweep", "--backend", "kubernetes", "-n", "shop", "--deployment", "web", "--target", "http://web.shop.svc:8080/",
		"--prometheus-url", "http://prometheus:9090", "--out", filepath.Join(base, "never")}
	capacity := []string{"capacity", "-n", "shop", "--prometheus-url", "http://127.0.0.1:1"}
	var cases []hostile
	for _, f := range []struct{ what, path, want string }{
		{"a private /dev/zero", n.Zero, "a character device"},
		{"a private /dev/null", n.Null, "a character device"},
		{"a named pipe nobody writes", n.FIFO, "a named pipe"},
		{"a directory", n.Dir, "a directory"},
		{"a link to a device", n.LinkToNull, "a character device"},
		{"a link to a directory", n.LinkToDir, "a directory"},
	} {
		cases = append(cases,
			hostile{name: "plan --profile " + f.what, args: plan(f.path), want: []string{"--profile", f.path, f.want}, trees: trees},
			hostile{name: "profiles show " + f.what, args: []string{"profiles", "show", f.path}, want: []string{f.path, f.want}, trees: trees},
			hostile{name: "restore --journal " + f.what, args: restore(f.path), want: []string{"--journal", f.path, f.want}, trees: trees},
			hostile{name: "hpa --kubeconfig " + f.what, args: hpa(f.path), want: []string{"--kubeconfig", f.path, f.want}, trees: trees},
			hostile{name: "sweep --backend kubernetes --prometheus-token-file " + f.what, args: append(kubeSweep, "--prometheus-token-file", f.path), want: []string{"--prometheus-token-file", f.path, f.want}, trees: trees},
			hostile{name: "capacity --profile " + f.what, args: append(capacity, "--profile", f.path), want: []string{"--profile", f.path, f.want}, trees: trees},
			hostile{name: "capacity --prometheus-token-file " + f.what, args: append(capacity, "--prometheus-token-file", f.path), want: []string{"--prometheus-token-file", f.path, f.want}, trees: trees},
			hostile{name: "hpa --replay --prometheus-token-file " + f.what, args: []string{"hpa", "-n", "shop", "web", "--replay", "--prometheus-url", "http://127.0.0.1:1", "--prometheus-token-file", f.path}, want: []string{"--prometheus-token-file", f.path, f.want}, trees: trees},
			hostile{name: "capacity --kubeconfig " + f.what, args: append(capacity, "--kubeconfig", f.path), want: []string{"--kubeconfig", f.path, f.want}, trees: trees},
		)
	}
	cases = append(cases,
		hostile{name: "plan --profile of 2 MiB", args: plan(bigProfile), want: []string{"--profile", bigProfile, "more than 1 MiB"}, trees: trees},
		hostile{name: "plan --profile a link to nothing", args: plan(n.Dangling), want: []string{"--profile", "not a reference profile", "no such file"}, trees: trees},
		hostile{name: "restore --journal of 2 MiB", args: restore(bigJournal), want: []string{"--journal", "more than 1 MiB"}, trees: trees},
		hostile{name: "hpa --kubeconfig of 17 MiB", args: hpa(bigKubeconfig), want: []string{"--kubeconfig", "more than 16 MiB"}, trees: trees},
		hostile{name: "$KUBECONFIG a private /dev/zero", args: []string{"inventory", "-n", "shop"}, env: map[string]string{"KUBECONFIG": n.Zero}, want: []string{"--kubeconfig", n.Zero, "a character device"}, trees: trees},
		hostile{name: "$KUBECONFIG a named pipe", args: []string{"hpa", "-n", "shop", "web"}, env: map[string]string{"KUBECONFIG": n.FIFO}, want: []string{"--kubeconfig", n.FIFO, "a named pipe"}, trees: trees},
		hostile{name: "check -f a private /dev/zero", args: []string{"check", "-f", n.Zero}, want: []string{n.Zero, "a character device"}, trees: trees},
		hostile{name: "check -f a directory holding a link to /dev/zero", args: []string{"check", "-f", manifests}, want: []string{"zero.yaml", "a character device"}, trees: trees},
		hostile{name: "check -f a manifest of 33 MiB", args: []string{"check", "-f", bigManifest}, want: []string{bigManifest, "more than 32 MiB"}, trees: trees},
		hostile{name: "check --mesh-config a private /dev/zero", args: []string{"check", "-f", manifests + "/ns.yaml", "--mesh-config", n.Zero}, want: []string{"--mesh-config", n.Zero, "a character device"}, trees: trees},
		hostile{name: "sweep --prometheus-token-file of 65 KiB", args: append(kubeSweep, "--prometheus-token-file", bigToken), want: []string{"--prometheus-token-file", "more than 64 KiB"}, trees: trees},
	)
	runHostile(t, cases)
}
