// Command check decodes every manifest that `helm template` renders strictly against the
// real Kubernetes API types (k8s.io/api) and KEDA's ScaledObject schema (its CRD, vendored
// under crds/ from github.com/kedacore/keda v2.20.2): an unknown field, a duplicate field, a
// wrong type, a bad quantity or a kind the chart is not expected to render is an error.
//
//	helm template ... | go run . -
//	go run . rendered.yaml ...
//
// It prints one line per object and exits 1 on the first file with an error.
package main

import (
	"bufio"
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"os"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

//go:embed crds/keda.sh_scaledobjects.yaml
var scaledObjectCRD []byte

// typed are the kinds the chart renders, decoded into their k8s.io/api structs. A Secret is
// deliberately absent: the chart references Secrets and never renders one.
var typed = map[string]func() any{
	"apps/v1/Deployment":                 func() any { return &appsv1.Deployment{} },
	"batch/v1/Job":                       func() any { return &batchv1.Job{} },
	"v1/Service":                         func() any { return &corev1.Service{} },
	"v1/ConfigMap":                       func() any { return &corev1.ConfigMap{} },
	"v1/ServiceAccount":                  func() any { return &corev1.ServiceAccount{} },
	"policy/v1/PodDisruptionBudget":      func() any { return &policyv1.PodDisruptionBudget{} },
	"networking.k8s.io/v1/NetworkPolicy": func() any { return &networkingv1.NetworkPolicy{} },
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: check FILE... (- for standard input)")
		os.Exit(2)
	}
	schemas, err := LoadCRD(scaledObjectCRD)
	if err != nil {
		fmt.Fprintln(os.Stderr, "vendored CRD:", err)
		os.Exit(2)
	}
	failed := false
	for _, name := range os.Args[1:] {
		var in io.Reader = os.Stdin
		if name != "-" {
			f, err := os.Open(name)
			if err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(2)
			}
			defer f.Close()
			in = f
		}
		n, err := CheckStream(in, schemas, os.Stdout)
		if err != nil {
			fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
			failed = true
			continue
		}
		fmt.Printf("%s: %d objects decoded strictly\n", name, n)
	}
	if failed {
		os.Exit(1)
	}
}

// CheckStream decodes each document of a multi-document YAML stream, writing one line per
// object to out, and returns how many objects it decoded.
func CheckStream(in io.Reader, schemas map[string]Schema, out io.Writer) (int, error) {
	reader := utilyaml.NewYAMLReader(bufio.NewReader(in))
	count := 0
	for {
		doc, err := reader.Read()
		if errors.Is(err, io.EOF) {
			return count, nil
		}
		if err != nil {
			return count, err
		}
		if len(bytes.TrimSpace(stripComments(doc))) == 0 {
			continue
		}
		kind, name, err := CheckDocument(doc, schemas)
		if err != nil {
			return count, fmt.Errorf("%s %q: %w", kind, name, err)
		}
		fmt.Fprintf(out, "ok %s %s\n", kind, name)
		count++
	}
}

// CheckDocument decodes one manifest strictly and returns its apiVersion/kind and name.
func CheckDocument(doc []byte, schemas map[string]Schema) (string, string, error) {
	var head struct {
		metav1.TypeMeta `json:",inline"`
		Metadata        struct {
			Name string `json:"name"`
		} `json:"metadata"`
	}
	if err := yaml.Unmarshal(doc, &head); err != nil {
		return "?", "?", err
	}
	gvk := head.APIVersion + "/" + head.Kind
	if head.Metadata.Name == "" {
		return gvk, "", errors.New("no metadata.name")
	}
	if newObject, ok := typed[gvk]; ok {
		return gvk, head.Metadata.Name, yaml.UnmarshalStrict(doc, newObject())
	}
	if schema, ok := schemas[gvk]; ok {
		var object map[string]any
		if err := yaml.UnmarshalStrict(doc, &object); err != nil {
			return gvk, head.Metadata.Name, err
		}
		// metadata is ObjectMeta for every kind; the CRD's schema leaves it open.
		meta, _ := yaml.Marshal(object["metadata"])
		if err := yaml.UnmarshalStrict(meta, &metav1.ObjectMeta{}); err != nil {
			return gvk, head.Metadata.Name, fmt.Errorf("metadata: %w", err)
		}
		delete(object, "metadata")
		return gvk, head.Metadata.Name, schema.Validate(object, "")
	}
	return gvk, head.Metadata.Name, errors.New("a kind the chart is not expected to render")
}

func stripComments(doc []byte) []byte {
	var kept [][]byte
	for _, line := range bytes.Split(doc, []byte("\n")) {
		if t := bytes.TrimSpace(line); len(t) > 0 && t[0] != '#' {
			kept = append(kept, line)
		}
	}
	return bytes.Join(kept, []byte("\n"))
}
