package kube

import (
	"errors"
	"io"
	"testing"

	"github.com/proxysizer/proxysizer/cluster"
	"github.com/proxysizer/proxysizer/cluster/prom"
	"github.com/proxysizer/proxysizer/internal/input"
	"github.com/proxysizer/proxysizer/results"
)

func TestRequestConfigNamesTheBadField(t *testing.T) {
	for _, tt := range []struct {
		name  string
		edit  func(*Request)
		field input.Field
		want  string
	}{
		{"no deployment", func(r *Request) { r.Deployment = "" }, cluster.FieldDeployment, "deployment: required with the kubernetes backend: the Deployment to size"},
		{"bad namespace", func(r *Request) { r.Namespace = "Shop" }, cluster.FieldNamespace, `namespace: expected a namespace name (lower-case letters, digits, '-'), got "Shop"`},
		{"no generators", func(r *Request) { r.LoadGenerators = 0 }, FieldLoadGenerators, "load generators: expected 1..100 pods, got 0"},
		{"token alone", func(r *Request) { r.Prometheus.TokenFile = "/tok" }, prom.FieldTokenFile, "Prometheus token file: needs Prometheus URL"},
		{"target not http", func(r *Request) { r.Target = "web:8080" }, FieldTarget, "target URL: expected the http(s) URL"},
		{"node selector", func(r *Request) { r.LoadNodeSelector = []string{"zone"} }, FieldLoadNodeSelector, `load generators' node selector: expected key=value node labels, got "zone"`},
		{"no image", func(r *Request) { r.LoadImage = "" }, FieldLoadImage, "load generators' image: expected an image"},
	} {
		r := DefaultRequest()
		r.Deployment, r.Target, r.LoadImage = "web", "http://web.shop.svc:8080/", DefaultLoadImage("v1.2.3")
		tt.edit(&r)
		_, err := r.Config(nil, io.Discard)
		var bad *input.Error
		if !errors.As(err, &bad) || bad.Field != tt.field || len(err.Error()) < len(tt.want) || err.Error()[:len(tt.want)] != tt.want {
			t.Errorf("%s: got %v, want an *input.Error on %q starting %q", tt.name, err, tt.field, tt.want)
		}
	}
}

func TestRequestConfigResumesTheRecordedDeployment(t *testing.T) {
	r := DefaultRequest()
	r.Target, r.LoadNodeSelector, r.LoadImage = "http://web.shop.svc:8080/", []string{"zone=a"}, DefaultLoadImage("v1.2.3")
	cfg, err := r.Config(&results.Cluster{Namespace: "shop", Deployment: "web"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Deployment != "web" || cfg.Access.Namespace != "shop" || cfg.LoadNodeSelector["zone"] != "a" || cfg.LoadImage != "proxysizer:v1.2.3" {
		t.Errorf("config %+v: want shop/web from the resumed sweep, zone=a, the image asked for", cfg)
	}
	r.Deployment = "api"
	_, err = r.Config(&results.Cluster{Namespace: "shop", Deployment: "web"}, io.Discard)
	if want := "deployment: the sweep being resumed measured shop/web: leave deployment out, or choose another results directory"; err == nil || err.Error() != want {
		t.Errorf("another Deployment on resume: got %v, want %q", err, want)
	}
}
