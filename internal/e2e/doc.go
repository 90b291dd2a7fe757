// Package e2e holds end-to-end tests that run the built proxysizer binary
// against real components (haproxy, nginx, cgroups), as a user would. The
// tests carry the integration build tag.
package e2e
