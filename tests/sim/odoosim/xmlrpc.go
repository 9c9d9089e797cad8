package odoosim

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
)

// The XML-RPC codec is written against the spec (and Python's
// xmlrpc.client, which Odoo uses) rather than borrowed from the client
// library under test, so the two cannot share a bug.

// Fault is an XML-RPC fault as Odoo raises it.
type Fault struct {
	Code   int
	String string
}

func (f *Fault) Error() string { return fmt.Sprintf("Fault %d: %s", f.Code, f.String) }

// node is a generic XML element tree.
type node struct {
	XMLName xml.Name
	Content string `xml:",chardata"`
	Nodes   []node `xml:",any"`
}

func (n node) child(name string) (node, bool) {
	for _, c := range n.Nodes {
		if c.XMLName.Local == name {
			return c, true
		}
	}
	return node{}, false
}

// parseCall decodes a methodCall into its name and parameters.
func parseCall(r io.Reader) (string, []any, error) {
	var root node
	dec := xml.NewDecoder(r)
	if err := dec.Decode(&root); err != nil {
		return "", nil, fmt.Errorf("not XML: %w", err)
	}
	if root.XMLName.Local != "methodCall" {
		return "", nil, errors.New("not a methodCall")
	}
	mn, ok := root.child("methodName")
	if !ok {
		return "", nil, errors.New("no methodName")
	}
	var params []any
	if ps, ok := root.child("params"); ok {
		for _, p := range ps.Nodes {
			if p.XMLName.Local != "param" {
				return "", nil, errors.New("bad params")
			}
			v, ok := p.child("value")
			if !ok {
				return "", nil, errors.New("param without value")
			}
			x, err := decodeValue(v)
			if err != nil {
				return "", nil, err
			}
			params = append(params, x)
		}
	}
	return strings.TrimSpace(mn.Content), params, nil
}

// decodeValue reads a <value> the way Python's xmlrpc.client does: an
// untyped or empty value is a string.
func decodeValue(v node) (any, error) {
	if len(v.Nodes) == 0 {
		return v.Content, nil
	}
	t := v.Nodes[0]
	switch t.XMLName.Local {
	case "int", "i4", "i8":
		n, err := strconv.ParseInt(strings.TrimSpace(t.Content), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("bad int %q", t.Content)
		}
		return n, nil
	case "boolean":
		switch strings.TrimSpace(t.Content) {
		case "1":
			return true, nil
		case "0":
			return false, nil
		}
		return nil, fmt.Errorf("bad boolean %q", t.Content)
	case "double":
		f, err := strconv.ParseFloat(strings.TrimSpace(t.Content), 64)
		if err != nil {
			return nil, fmt.Errorf("bad double %q", t.Content)
		}
		return f, nil
	case "string", "base64", "dateTime.iso8601":
		return t.Content, nil
	case "nil":
		return nil, nil
	case "array":
		out := []any{}
		data, ok := t.child("data")
		if !ok {
			return out, nil
		}
		for _, e := range data.Nodes {
			x, err := decodeValue(e)
			if err != nil {
				return nil, err
			}
			out = append(out, x)
		}
		return out, nil
	case "struct":
		out := map[string]any{}
		for _, m := range t.Nodes {
			name, _ := m.child("name")
			val, ok := m.child("value")
			if !ok {
				return nil, errors.New("member without value")
			}
			x, err := decodeValue(val)
			if err != nil {
				return nil, err
			}
			out[strings.TrimSpace(name.Content)] = x
		}
		return out, nil
	}
	return nil, fmt.Errorf("unknown type %s", t.XMLName.Local)
}

// errOverflow mirrors Python's marshaller refusing ints beyond int32.
var errOverflow = errors.New("OverflowError: int exceeds XML-RPC limits")

// errNone mirrors Python's marshaller refusing None (Odoo has allow_none off).
var errNone = errors.New("TypeError: cannot marshal None unless allow_none is enabled")

func encodeValue(b *bytes.Buffer, v any) error {
	if i, ok := v.(int); ok {
		v = int64(i)
	}
	b.WriteString("<value>")
	switch x := v.(type) {
	case nil:
		return errNone
	case bool:
		if x {
			b.WriteString("<boolean>1</boolean>")
		} else {
			b.WriteString("<boolean>0</boolean>")
		}
	case int64:
		if x > math.MaxInt32 || x < math.MinInt32 {
			return errOverflow
		}
		fmt.Fprintf(b, "<int>%d</int>", x)
	case float64:
		b.WriteString("<double>" + strconv.FormatFloat(x, 'f', -1, 64) + "</double>")
	case string:
		b.WriteString("<string>")
		_ = xml.EscapeText(b, []byte(x))
		b.WriteString("</string>")
	case []any:
		b.WriteString("<array><data>")
		for _, e := range x {
			if err := encodeValue(b, e); err != nil {
				return err
			}
		}
		b.WriteString("</data></array>")
	case []int64:
		b.WriteString("<array><data>")
		for _, e := range x {
			if err := encodeValue(b, e); err != nil {
				return err
			}
		}
		b.WriteString("</data></array>")
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		b.WriteString("<struct>")
		for _, k := range keys {
			b.WriteString("<member><name>")
			_ = xml.EscapeText(b, []byte(k))
			b.WriteString("</name>")
			if err := encodeValue(b, x[k]); err != nil {
				return err
			}
			b.WriteString("</member>")
		}
		b.WriteString("</struct>")
	default:
		return fmt.Errorf("TypeError: cannot marshal %T objects", v)
	}
	b.WriteString("</value>")
	return nil
}

// encodeResponse renders a methodResponse, or the fault Odoo would send
// when the result cannot be marshalled.
func encodeResponse(result any) []byte {
	var b bytes.Buffer
	b.WriteString("<?xml version='1.0'?>\n<methodResponse>\n<params>\n<param>\n")
	if err := encodeValue(&b, result); err != nil {
		return encodeFault(&Fault{Code: 1, String: traceback(err.Error())})
	}
	b.WriteString("\n</param>\n</params>\n</methodResponse>\n")
	return b.Bytes()
}

func encodeFault(f *Fault) []byte {
	var b bytes.Buffer
	b.WriteString("<?xml version='1.0'?>\n<methodResponse>\n<fault>\n")
	_ = encodeValue(&b, map[string]any{"faultCode": int64(f.Code), "faultString": f.String})
	b.WriteString("\n</fault>\n</methodResponse>\n")
	return b.Bytes()
}

// traceback dresses an exception line as Odoo's fault 1 faultString.
func traceback(last string) string {
	return "Traceback (most recent call last):\n" +
		"  File \"/usr/lib/python3/dist-packages/odoo/addons/base/controllers/rpc.py\", line 163, in xmlrpc_2\n" +
		"    response = self._xmlrpc(service)\n" +
		"  File \"/usr/lib/python3/dist-packages/odoo/service/model.py\", line 62, in execute_kw\n" +
		"    return execute(db, uid, obj, method, *args, **kw or {})\n" +
		last + "\n"
}
