package main

import (
	"io"
	"strings"
	"testing"
)

const deployment = `
apiVersion: apps/v1
kind: Deployment
metadata: {name: d}
spec:
  selector: {matchLabels: {a: b}}
  template:
    metadata: {labels: {a: b}}
    spec:
      containers:
        - name: c
          image: i
          resources: {limits: {memory: 512Mi}}
`

const scaledObject = `
apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata: {name: s, labels: {a: b}}
spec:
  scaleTargetRef: {name: d}
  maxReplicaCount: 12
  triggers:
    - type: kafka
      metadata: {bootstrapServers: "k:9092", consumerGroup: g, lagThreshold: "4"}
`

func check(t *testing.T, doc string) error {
	t.Helper()
	schemas, err := LoadCRD(scaledObjectCRD)
	if err != nil {
		t.Fatal(err)
	}
	_, err = CheckStream(strings.NewReader(doc), schemas, io.Discard)
	return err
}

func TestValidManifestsDecode(t *testing.T) {
	if err := check(t, deployment+"\n---\n"+scaledObject); err != nil {
		t.Fatal(err)
	}
}

func TestRejected(t *testing.T) {
	cases := map[string]string{
		"unknown field in a pod spec":    strings.Replace(deployment, "image: i", "image: i\n          imagePolicy: x", 1),
		"duplicate field":                strings.Replace(deployment, "image: i", "image: i\n          image: j", 1),
		"bad quantity":                   strings.Replace(deployment, "512Mi", "lots", 1),
		"string where an int belongs":    strings.Replace(scaledObject, "maxReplicaCount: 12", `maxReplicaCount: "12"`, 1),
		"unknown field in a KEDA spec":   strings.Replace(scaledObject, "maxReplicaCount: 12", "maxReplicas: 12", 1),
		"non-string trigger metadata":    strings.Replace(scaledObject, `lagThreshold: "4"`, "lagThreshold: 4", 1),
		"unknown field in KEDA metadata": strings.Replace(scaledObject, "labels: {a: b}", "labels: {a: b}, label: x", 1),
		"missing required field":         strings.Replace(scaledObject, "scaleTargetRef: {name: d}", "scaleTargetRef: {kind: Deployment}", 1),
		"a Secret rendered inline":       "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\nstringData: {password: x}\n",
		"a kind nobody expects":          "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\n",
	}
	for name, doc := range cases {
		if err := check(t, doc); err == nil {
			t.Errorf("%s: accepted", name)
		} else {
			t.Logf("%s: %v", name, err)
		}
	}
}
