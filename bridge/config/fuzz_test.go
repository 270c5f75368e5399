package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.uber.org/zap"
)

// seedFiles adds every Jitsi configuration file in the shared test data as a seed.
func seedFiles(f *testing.F) {
	f.Helper()
	names, err := filepath.Glob(filepath.Join(testdataDir, "*.conf*"))
	if err != nil || len(names) == 0 {
		f.Fatalf("no seed files in %s: %v", testdataDir, err)
	}
	for _, name := range names {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
}

var seedSnippets = []string{
	"a = 1\nb : [1, 2,]\nc { d = ${a} }",
	"a.b.c = x y z, d = \"q\\u00e9\"\ne = \"\"\"raw\"\"\"",
	"a = ${?x}\na += 1\nb = ${a} [2]",
	"p = a\np = ${p}\":b\"",
	"include \"x.conf\"\ninclude required(file(\"y\"))",
	"a = {x = 1} {y = ${a.x}}",
	"a = ${b}\nb = ${a}",
	"videobridge.apis.xmpp-client.configs.s { hostname = localhost, username = u, password = p, muc_jids = \"a@b\", muc_nickname = n, port = 5222 }",
	"ice4j.harvest.mapping.static-mappings = [{ local-address = a, public-address = b, local-port = 1, public-port = 2 }]",
	"videobridge.stats.interval = PT1M\nvideobridge.cc.max-oversend-bitrate = 1 Mbps",
}

// FuzzParse: the reader never panics or hangs, and whatever it accepts survives a round trip:
// rendering the resolved tree as HOCON and reading it again gives the same tree.
func FuzzParse(f *testing.F) {
	seedFiles(f)
	for _, s := range seedSnippets {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		root, err := parseHOCON("/fuzz.conf", data, &parseOptions{readFile: noFiles})
		if err != nil {
			assertParseError(t, err)
			return
		}
		tree, err := resolveTree(root, nil, nil)
		if err != nil {
			assertParseError(t, err)
			return
		}
		text := render(tree)
		root2, err := parseHOCON("/rendered.conf", []byte(text), &parseOptions{readFile: noFiles})
		if err != nil {
			t.Fatalf("rendered tree does not parse: %v\n%s", err, text)
		}
		tree2, err := resolveTree(root2, nil, nil)
		if err != nil {
			t.Fatalf("rendered tree does not resolve: %v\n%s", err, text)
		}
		if !sameTree(tree, tree2) {
			t.Fatalf("round trip changed the tree:\n%s\n%s", dump(tree), dump(tree2))
		}
	})
}

func assertParseError(t *testing.T, err error) {
	t.Helper()
	var pe *ParseError
	if !errors.As(err, &pe) || pe.Line < 1 || pe.Col < 1 || pe.File == "" {
		t.Fatalf("error without a position: %#v", err)
	}
}

// FuzzLoad: building a Config from any input never panics, fails only with a positioned parse
// error or a ValueError naming a key, and every Config it returns passes Validate (load checks
// that and reports a plain error otherwise).
func FuzzLoad(f *testing.F) {
	seedFiles(f)
	for _, s := range seedSnippets {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := load("/fuzz.conf", data, noFiles, nil, zap.NewNop())
		var ve *ValueError
		switch {
		case err == nil:
			if c == nil {
				t.Fatal("nil Config without error")
			}
		case errors.As(err, &ve):
			if ve.Key == "" || ve.File == "" {
				t.Fatalf("ValueError without key or file: %#v", ve)
			}
		case errors.Is(err, ErrParse):
			assertParseError(t, err)
		default:
			t.Fatalf("unexpected error kind: %v", err)
		}
	})
}

// FuzzParseDuration: never panics, and a parsed duration reads back from its nanosecond form.
func FuzzParseDuration(f *testing.F) {
	for _, s := range []string{"5 seconds", "15ms", "1.5 minutes", "PT1H30M", "P1DT0.25S", "2500", "-3 days"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := parseDuration(s)
		if err != nil {
			return
		}
		back, err := parseDuration(fmt.Sprintf("%dns", int64(d)))
		if err != nil || back != d {
			t.Fatalf("parseDuration(%q) = %v, but %dns reads as %v, %v", s, d, int64(d), back, err)
		}
	})
}

// render writes a resolved tree as HOCON: quoted keys and strings, JSON escapes.
func render(v *value) string {
	var b strings.Builder
	var walk func(v *value)
	walk = func(v *value) {
		switch v.kind {
		case kindObject:
			b.WriteString("{\n")
			for _, k := range v.keys {
				b.WriteString(quote(k) + " : ")
				walk(v.fields[k])
				b.WriteString("\n")
			}
			b.WriteString("}")
		case kindList:
			b.WriteString("[\n")
			for _, item := range v.items {
				walk(item)
				b.WriteString(",\n")
			}
			b.WriteString("]")
		case kindNull:
			b.WriteString("null")
		default:
			b.WriteString(quote(v.text))
		}
	}
	walk(v)
	return b.String()
}

func quote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c < 0x20:
			fmt.Fprintf(&b, `\u%04x`, c)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}

func sameTree(a, b *value) bool {
	if a.kind != b.kind || a.text != b.text || len(a.keys) != len(b.keys) || len(a.items) != len(b.items) {
		return false
	}
	for i, k := range a.keys {
		if b.keys[i] != k || !sameTree(a.fields[k], b.fields[k]) {
			return false
		}
	}
	for i := range a.items {
		if !sameTree(a.items[i], b.items[i]) {
			return false
		}
	}
	return true
}
