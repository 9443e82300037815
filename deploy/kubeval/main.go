// Command kubeval strictly validates the manifests `helm template` renders
// for deploy/helm/dispatchoor: every document is decoded into Kubernetes'
// own API types (or prometheus-operator's for its CRDs) with unknown fields
// disallowed, then the chart's invariants are checked on the result.
//
// It lives in its own module so the product's go.mod does not grow.
//
// Usage: helm template ... | kubeval [-want KIND,KIND...]
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

// typed maps apiVersion/kind to the Go type a document must decode into.
var typed = map[string]func() any{
	"v1/ConfigMap":                            func() any { return &corev1.ConfigMap{} },
	"v1/Secret":                               func() any { return &corev1.Secret{} },
	"v1/Service":                              func() any { return &corev1.Service{} },
	"v1/ServiceAccount":                       func() any { return &corev1.ServiceAccount{} },
	"v1/PersistentVolumeClaim":                func() any { return &corev1.PersistentVolumeClaim{} },
	"apps/v1/Deployment":                      func() any { return &appsv1.Deployment{} },
	"networking.k8s.io/v1/Ingress":            func() any { return &networkingv1.Ingress{} },
	"networking.k8s.io/v1/NetworkPolicy":      func() any { return &networkingv1.NetworkPolicy{} },
	"policy/v1/PodDisruptionBudget":           func() any { return &policyv1.PodDisruptionBudget{} },
	"monitoring.coreos.com/v1/ServiceMonitor": func() any { return &monitoringv1.ServiceMonitor{} },
	"monitoring.coreos.com/v1/PrometheusRule": func() any { return &monitoringv1.PrometheusRule{} },
}

type rendered struct {
	deployments []*appsv1.Deployment
	pvcs        []*corev1.PersistentVolumeClaim
	kinds       map[string]int
}

func main() {
	want := flag.String("want", "", "comma-separated kinds that must be rendered")
	flag.Parse()
	r, err := decodeAll(os.Stdin)
	if err == nil {
		err = r.check(*want)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "kubeval:", err)
		os.Exit(1)
	}
	fmt.Printf("kubeval: ok (%s)\n", r.summary())
}

func decodeAll(in io.Reader) (*rendered, error) {
	r := &rendered{kinds: map[string]int{}}
	dec := utilyaml.NewYAMLReader(bufio.NewReader(in))
	for n := 1; ; n++ {
		doc, err := dec.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("read document %d: %w", n, err)
		}
		if len(bytes.TrimSpace(stripComments(doc))) == 0 {
			continue
		}
		js, err := yaml.YAMLToJSON(doc)
		if err != nil {
			return nil, fmt.Errorf("document %d is not YAML: %w", n, err)
		}
		var head struct {
			APIVersion string `json:"apiVersion"`
			Kind       string `json:"kind"`
			Metadata   struct {
				Name string `json:"name"`
			} `json:"metadata"`
		}
		if err := json.Unmarshal(js, &head); err != nil {
			return nil, fmt.Errorf("document %d: %w", n, err)
		}
		key := head.APIVersion + "/" + head.Kind
		mk, ok := typed[key]
		if !ok {
			return nil, fmt.Errorf("document %d (%s %s): no known type for %s", n, head.Kind, head.Metadata.Name, key)
		}
		obj := mk()
		d := json.NewDecoder(bytes.NewReader(js))
		d.DisallowUnknownFields()
		if err := d.Decode(obj); err != nil {
			return nil, fmt.Errorf("%s %s does not match %s: %w", head.Kind, head.Metadata.Name, key, err)
		}
		if head.Metadata.Name == "" {
			return nil, fmt.Errorf("document %d (%s) has no name", n, head.Kind)
		}
		r.kinds[head.Kind]++
		switch o := obj.(type) {
		case *appsv1.Deployment:
			r.deployments = append(r.deployments, o)
		case *corev1.PersistentVolumeClaim:
			r.pvcs = append(r.pvcs, o)
		}
	}
	return r, nil
}

func stripComments(doc []byte) []byte {
	var out []string
	for _, l := range strings.Split(string(doc), "\n") {
		if !strings.HasPrefix(strings.TrimSpace(l), "#") {
			out = append(out, l)
		}
	}
	return []byte(strings.Join(out, "\n"))
}

func (r *rendered) summary() string {
	var parts []string
	for k, n := range r.kinds {
		parts = append(parts, fmt.Sprintf("%d %s", n, k))
	}
	return strings.Join(parts, ", ")
}
