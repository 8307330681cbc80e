package main

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// openAPI is the part of an OpenAPI 3 document a response is checked
// against: paths, their operations' responses, and component schemas.
// The check is small and strict on purpose: a property the document does
// not declare is an error, so the document cannot fall behind the API.
type openAPI struct {
	Paths      map[string]map[string]operation `json:"paths"`
	Components struct {
		Schemas map[string]*schema `json:"schemas"`
	} `json:"components"`
}

type operation struct {
	Responses map[string]struct {
		Ref     string `json:"$ref"`
		Content map[string]struct {
			Schema *schema `json:"schema"`
		} `json:"content"`
	} `json:"responses"`
}

type schema struct {
	Ref                  string             `json:"$ref"`
	Type                 string             `json:"type"`
	Properties           map[string]*schema `json:"properties"`
	Required             []string           `json:"required"`
	Items                *schema            `json:"items"`
	AllOf                []*schema          `json:"allOf"`
	Enum                 []any              `json:"enum"`
	AdditionalProperties *schema            `json:"additionalProperties"`
}

// checkResponse validates body, the answer to method on path template
// (as the document names it) with status code.
func (d *openAPI) checkResponse(method, path string, code int, body []byte) error {
	op, ok := d.Paths[path][strings.ToLower(method)]
	if !ok {
		return fmt.Errorf("the document has no %s %s", method, path)
	}
	resp, ok := op.Responses[fmt.Sprint(code)]
	if !ok {
		return fmt.Errorf("the document gives %s %s no %d response", method, path, code)
	}
	var s *schema
	if resp.Ref != "" {
		s = &schema{Ref: "#/components/schemas/Error"} // the one shared response
	} else if c, ok := resp.Content["application/json"]; ok {
		s = c.Schema
	} else {
		return nil // not JSON: nothing to check here
	}
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		return fmt.Errorf("%s %s %d: not JSON: %v", method, path, code, err)
	}
	return d.check(s, v, "$")
}

func (d *openAPI) resolve(s *schema) *schema {
	for s != nil && s.Ref != "" {
		s = d.Components.Schemas[strings.TrimPrefix(s.Ref, "#/components/schemas/")]
	}
	return s
}

func (d *openAPI) check(s *schema, v any, at string) error {
	s = d.resolve(s)
	if s == nil {
		return fmt.Errorf("%s: unresolved schema", at)
	}
	if len(s.AllOf) > 0 {
		merged := &schema{Type: "object", Properties: map[string]*schema{}}
		for _, part := range s.AllOf {
			p := d.resolve(part)
			for k, ps := range p.Properties {
				merged.Properties[k] = ps
			}
			merged.Required = append(merged.Required, p.Required...)
		}
		s = merged
	}
	if len(s.Enum) > 0 {
		found := false
		for _, e := range s.Enum {
			found = found || e == v
		}
		if !found {
			return fmt.Errorf("%s: %v is not one of %v", at, v, s.Enum)
		}
	}
	switch s.Type {
	case "object":
		m, ok := v.(map[string]any)
		if !ok {
			return fmt.Errorf("%s: want an object, got %T", at, v)
		}
		for _, r := range s.Required {
			if _, ok := m[r]; !ok {
				return fmt.Errorf("%s: required property %q missing", at, r)
			}
		}
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			ps, ok := s.Properties[k]
			if !ok {
				ps = s.AdditionalProperties
			}
			if ps == nil {
				return fmt.Errorf("%s: property %q is not in the document", at, k)
			}
			if err := d.check(ps, m[k], at+"."+k); err != nil {
				return err
			}
		}
	case "array":
		a, ok := v.([]any)
		if !ok {
			return fmt.Errorf("%s: want an array, got %T", at, v)
		}
		for i, x := range a {
			if err := d.check(s.Items, x, fmt.Sprintf("%s[%d]", at, i)); err != nil {
				return err
			}
		}
	case "string":
		if _, ok := v.(string); !ok {
			return fmt.Errorf("%s: want a string, got %T", at, v)
		}
	case "integer":
		f, ok := v.(float64)
		if !ok || f != float64(int64(f)) {
			return fmt.Errorf("%s: want an integer, got %v", at, v)
		}
	case "number":
		if _, ok := v.(float64); !ok {
			return fmt.Errorf("%s: want a number, got %T", at, v)
		}
	case "boolean":
		if _, ok := v.(bool); !ok {
			return fmt.Errorf("%s: want a boolean, got %T", at, v)
		}
	}
	return nil
}
