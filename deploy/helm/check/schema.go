package main

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"sigs.k8s.io/yaml"
)

// Schema is the part of a CRD's OpenAPI v3 schema (structural, as the API server requires)
// that a strict decoder needs. Unlike the API server, which prunes unknown fields silently,
// Validate rejects them: a misspelt field in a chart would otherwise vanish on apply.
type Schema struct {
	Type                  string            `json:"type"`
	Properties            map[string]Schema `json:"properties"`
	AdditionalProperties  *Schema           `json:"additionalProperties"`
	Items                 *Schema           `json:"items"`
	Required              []string          `json:"required"`
	Enum                  []any             `json:"enum"`
	IntOrString           bool              `json:"x-kubernetes-int-or-string"`
	PreserveUnknownFields bool              `json:"x-kubernetes-preserve-unknown-fields"`
}

// LoadCRD reads a CustomResourceDefinition and returns the schema of each served version,
// by "group/version/Kind".
func LoadCRD(doc []byte) (map[string]Schema, error) {
	var crd struct {
		Spec struct {
			Group string `json:"group"`
			Names struct {
				Kind string `json:"kind"`
			} `json:"names"`
			Versions []struct {
				Name   string `json:"name"`
				Served bool   `json:"served"`
				Schema struct {
					OpenAPIV3Schema Schema `json:"openAPIV3Schema"`
				} `json:"schema"`
			} `json:"versions"`
		} `json:"spec"`
	}
	if err := yaml.Unmarshal(doc, &crd); err != nil {
		return nil, err
	}
	out := map[string]Schema{}
	for _, v := range crd.Spec.Versions {
		if v.Served {
			out[crd.Spec.Group+"/"+v.Name+"/"+crd.Spec.Names.Kind] = v.Schema.OpenAPIV3Schema
		}
	}
	if len(out) == 0 {
		return nil, errors.New("no served version")
	}
	return out, nil
}

// Validate checks value (decoded from JSON) against the schema; path names where it is.
func (s Schema) Validate(value any, path string) error {
	if value == nil {
		return fmt.Errorf("%s: null", orRoot(path))
	}
	if s.IntOrString {
		switch value.(type) {
		case string, float64, int64:
			return nil
		}
		return fmt.Errorf("%s: %T is neither an integer nor a string", orRoot(path), value)
	}
	if len(s.Enum) > 0 && !contains(s.Enum, value) {
		return fmt.Errorf("%s: %v is not one of %v", orRoot(path), value, s.Enum)
	}
	switch s.Type {
	case "object":
		object, ok := value.(map[string]any)
		if !ok {
			return fmt.Errorf("%s: %T where an object belongs", orRoot(path), value)
		}
		for _, name := range s.Required {
			if _, ok := object[name]; !ok {
				return fmt.Errorf("%s: %q is required", orRoot(path), name)
			}
		}
		keys := make([]string, 0, len(object))
		for k := range object {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			child, known := s.Properties[k]
			switch {
			case known:
			case s.AdditionalProperties != nil:
				child = *s.AdditionalProperties
			case s.PreserveUnknownFields:
				continue // a free-form object: nothing to check inside
			default:
				return fmt.Errorf("%s: unknown field %q", orRoot(path), k)
			}
			if err := child.Validate(object[k], path+"."+k); err != nil {
				return err
			}
		}
	case "array":
		list, ok := value.([]any)
		if !ok {
			return fmt.Errorf("%s: %T where an array belongs", orRoot(path), value)
		}
		for i, item := range list {
			if s.Items == nil {
				continue
			}
			if err := s.Items.Validate(item, fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
	case "string":
		if _, ok := value.(string); !ok {
			return fmt.Errorf("%s: %T where a string belongs", orRoot(path), value)
		}
	case "integer":
		n, ok := value.(float64)
		if !ok || n != float64(int64(n)) {
			return fmt.Errorf("%s: %v where an integer belongs", orRoot(path), value)
		}
	case "number":
		if _, ok := value.(float64); !ok {
			return fmt.Errorf("%s: %T where a number belongs", orRoot(path), value)
		}
	case "boolean":
		if _, ok := value.(bool); !ok {
			return fmt.Errorf("%s: %T where a boolean belongs", orRoot(path), value)
		}
	}
	return nil
}

func contains(list []any, value any) bool {
	for _, item := range list {
		if fmt.Sprint(item) == fmt.Sprint(value) {
			return true
		}
	}
	return false
}

func orRoot(path string) string {
	if path == "" {
		return "(root)"
	}
	return strings.TrimPrefix(path, ".")
}
