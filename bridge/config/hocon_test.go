package config

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// dump renders a resolved tree compactly: objects {k:v,...} in key order, lists [a,b],
// strings as Go-quoted text, null as null.
func dump(v *value) string {
	var b strings.Builder
	var walk func(v *value)
	walk = func(v *value) {
		switch v.kind {
		case kindObject:
			b.WriteByte('{')
			for i, k := range v.keys {
				if i > 0 {
					b.WriteByte(',')
				}
				b.WriteString(k + ":")
				walk(v.fields[k])
			}
			b.WriteByte('}')
		case kindList:
			b.WriteByte('[')
			for i, item := range v.items {
				if i > 0 {
					b.WriteByte(',')
				}
				walk(item)
			}
			b.WriteByte(']')
		case kindNull:
			b.WriteString("null")
		case kindString:
			b.WriteString(`"` + strings.ReplaceAll(v.text, `"`, `\"`) + `"`)
		default:
			b.WriteString("<" + v.kind.String() + ">")
		}
	}
	walk(v)
	return b.String()
}

// memFS serves includes from a map; names are relative to /etc/jvb.
func memFS(files map[string]string) func(string) ([]byte, error) {
	return func(name string) ([]byte, error) {
		rel, err := filepath.Rel("/etc/jvb", name)
		if err != nil {
			return nil, fs.ErrNotExist
		}
		if s, ok := files[rel]; ok {
			return []byte(s), nil
		}
		return nil, fs.ErrNotExist
	}
}

func parseAndResolve(src string, files map[string]string, env map[string]string) (*value, error) {
	root, err := parseHOCON("/etc/jvb/jvb.conf", []byte(src), &parseOptions{readFile: memFS(files)})
	if err != nil {
		return nil, err
	}
	lookup := func(name string) (string, bool) { s, ok := env[name]; return s, ok }
	return resolveTree(root, nil, lookup)
}

func TestHOCON(t *testing.T) {
	tests := []struct {
		name  string
		src   string
		files map[string]string
		env   map[string]string
		want  string
	}{
		{"separators", "a = 1\nb : 2\nc { d = 3 }\ne=4, f=5", nil, nil,
			`{a:"1",b:"2",c:{d:"3"},e:"4",f:"5"}`},
		{"braced root with JSON syntax", `{"a": {"b": [1, 2]}, "c": true}`, nil, nil,
			`{a:{b:["1","2"]},c:"true"}`},
		{"dotted keys", "a.b.c = 1\na.b.d = 2", nil, nil, `{a:{b:{c:"1",d:"2"}}}`},
		{"quoted key keeps dots", `"a.b".c = 1`, nil, nil, `{a.b:{c:"1"}}`},
		{"key with inner space", "foo bar = 1", nil, nil, `{foo bar:"1"}`},
		{"comments", "# hash\n// slashes\na = 1 # trailing\nb = 2 // trailing\nc = \"x // not a comment\"",
			nil, nil, `{a:"1",b:"2",c:"x // not a comment"}`},
		{"unquoted IP, host:port, UUID", "h = 0.0.0.0\ns = meet.example.org:443\n" +
			"n = 6f1c3f0e-2a9b-4d7e-9c55-0d7a8e1b2c34\nv6 = ::1", nil, nil,
			`{h:"0.0.0.0",s:"meet.example.org:443",n:"6f1c3f0e-2a9b-4d7e-9c55-0d7a8e1b2c34",v6:"::1"}`},
		{"unquoted with spaces", "d = 5 seconds  \ne = a  b", nil, nil, `{d:"5 seconds",e:"a  b"}`},
		{"quoted escapes", `s = "a\"b\\c\n\t\u00e9\ud83d\ude00/"`, nil, nil, "{s:\"a\\\"b\\c\n\té😀/\"}"},
		{"triple quoted", "s = \"\"\"line1\n\"quoted\" \\n\"\"\"\"", nil, nil, "{s:\"line1\n\\\"quoted\\\" \\n\\\"\"}"},
		{"null", "a = null\nb = \"null\"", nil, nil, `{a:null,b:"null"}`},
		{"lists with newlines and trailing comma", "l = [\n  a,\n  \"b\"\n  c,\n]\ne = []", nil, nil,
			`{l:["a","b","c"],e:[]}`},
		{"list of objects", `m = [{a = 1}, {b = 2},]`, nil, nil, `{m:[{a:"1"},{b:"2"}]}`},
		{"objects merge, later wins", "a { x = 1, y = 1 }\na { y = 2, z = 2 }", nil, nil,
			`{a:{x:"1",y:"2",z:"2"}}`},
		{"deep merge", "a.b { x = 1 }\na { b { y = 2 } }", nil, nil, `{a:{b:{x:"1",y:"2"}}}`},
		{"scalar replaces object", "a { x = 1 }\na = 5", nil, nil, `{a:"5"}`},
		{"object replaces scalar", "a = 5\na { x = 1 }", nil, nil, `{a:{x:"1"}}`},
		{"substitution", "a = 1\nb = ${a}", nil, nil, `{a:"1",b:"1"}`},
		{"forward substitution sees final value", "b = ${a.x}\na.x = 1\na.x = 2", nil, nil,
			`{b:"2",a:{x:"2"}}`},
		{"nested reference", "v { t = 1 minute, c = ${v.t} }", nil, nil, `{v:{t:"1 minute",c:"1 minute"}}`},
		{"concatenation", "a = x\nb = ${a}\"-y\"\nc = ${a} and ${a}", nil, nil,
			`{a:"x",b:"x-y",c:"x and x"}`},
		{"optional missing drops field", "a = ${?nope}", nil, nil, `{}`},
		{"optional missing keeps earlier value", "a = 1\na = ${?nope}", nil, nil, `{a:"1"}`},
		{"optional in concatenation", "a = x${?nope}y", nil, nil, `{a:"xy"}`},
		{"environment", "p = ${?JVB_PW}\nq = ${HOME}", nil, map[string]string{"JVB_PW": "s3cret", "HOME": "/root"},
			`{p:"s3cret",q:"/root"}`},
		{"self reference", "p = a\np = ${p}\":b\"", nil, nil, `{p:"a:b"}`},
		{"plus equals", "l = [1]\nl += 2\nm += 3", nil, nil, `{l:["1","2"],m:["3"]}`},
		{"list concatenation", "a = [1]\nb = ${a} [2]", nil, nil, `{a:["1"],b:["1","2"]}`},
		{"object concatenation", "a { x = 1 }\nb = ${a} { y = 2 }", nil, nil,
			`{a:{x:"1"},b:{x:"1",y:"2"}}`},
		{"substituted object merges with later fields", "a { x = 1 }\nb = ${a}\nb.y = 2", nil, nil,
			`{a:{x:"1"},b:{x:"1",y:"2"}}`},
		{"include", "include \"other.conf\"\nb = 2", map[string]string{"other.conf": "a = 1\nb = 1"}, nil,
			`{a:"1",b:"2"}`},
		{"include file() in nested object, fixed-up substitution",
			"x = 9\nv { include file(\"sub.conf\") }",
			map[string]string{"sub.conf": "x = 1\ny = ${x}\nz = ${?w}"}, nil,
			`{x:"9",v:{x:"1",y:"1"}}`},
		{"included substitution falls back to root path", "w = 7\nv { include \"sub.conf\" }",
			map[string]string{"sub.conf": "z = ${w}"}, nil, `{w:"7",v:{z:"7"}}`},
		{"include overrides earlier, later overrides include", "a = 0\ninclude \"o.conf\"\nc = 3",
			map[string]string{"o.conf": "a = 1\nc = 1"}, nil, `{a:"1",c:"3"}`},
		{"missing include ignored", "include \"custom-jvb.conf\"\na = 1", nil, nil, `{a:"1"}`},
		{"include without extension tries .conf", "include \"o\"",
			map[string]string{"o.conf": "a = 1"}, nil, `{a:"1"}`},
		{"url and classpath includes ignored", "include url(\"http://x/y.conf\")\ninclude classpath(\"r.conf\")\na = 1",
			nil, nil, `{a:"1"}`},
		{"key named include", "include = 1\ninclude-x = 2", nil, nil, `{include:"1",include-x:"2"}`},
		{"crlf and BOM", "\ufeffa = 1\r\nb = 2\r\n", nil, nil, `{a:"1",b:"2"}`},
		{"empty document", "  \n# nothing\n", nil, nil, `{}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := parseAndResolve(tt.src, tt.files, tt.env)
			if err != nil {
				t.Fatalf("error: %v", err)
			}
			if got := dump(v); got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestHOCONErrors(t *testing.T) {
	tests := []struct {
		name  string
		src   string
		files map[string]string
		want  string // the whole error message
	}{
		{"missing separator", "a = 1\nb 2\n", nil, `/etc/jvb/jvb.conf:2:4: expected '=', ':' or '{' after key "b 2", got a newline`},
		{"missing separator at end", "a = 1\nb", nil, `/etc/jvb/jvb.conf:2:2: unexpected end of input after key "b"`},
		{"garbage after value", "a = {} ]", nil, `/etc/jvb/jvb.conf:1:8: expected ',' or a newline after a value, got ']'`},
		{"unclosed object", "a {\n b = 1\n", nil, "/etc/jvb/jvb.conf:3:1: unexpected end of input, expected '}'"},
		{"unclosed list", "a = [1,", nil, "/etc/jvb/jvb.conf:1:8: unexpected end of input, expected ']'"},
		{"unterminated string", "a = \"abc", nil, "/etc/jvb/jvb.conf:1:5: unterminated quoted string"},
		{"bad escape", `a = "\q"`, nil, `/etc/jvb/jvb.conf:1:6: invalid escape sequence \q`},
		{"double comma", "a = 1,,b = 2", nil, "/etc/jvb/jvb.conf:1:7: unexpected ','"},
		{"missing value", "a = \n}", nil, "/etc/jvb/jvb.conf:2:1: expected a value, got '}'"},
		{"empty key segment", "a..b = 1", nil, "/etc/jvb/jvb.conf:1:3: empty key segment"},
		{"unresolved", "a {\n  b = ${nope.x}\n}", nil, "/etc/jvb/jvb.conf:2:7: unresolved substitution ${nope.x}"},
		{"cycle", "a = ${b}\nb = ${a}", nil, "/etc/jvb/jvb.conf:1:5: substitution cycle: ${b}"},
		{"mixed concatenation", "a = [1]\nb = ${a} x", nil, "/etc/jvb/jvb.conf:2:5: cannot concatenate a list and a string"},
		{"root list", "[1, 2]", nil, "/etc/jvb/jvb.conf:1:1: the root of a configuration file must be an object, not a list"},
		{"error in include names the included file", "include \"bad.conf\"",
			map[string]string{"bad.conf": "x {"}, "/etc/jvb/bad.conf:1:4: unexpected end of input, expected '}'"},
		{"required include missing", `include required("gone.conf")`, nil,
			`/etc/jvb/jvb.conf:1:1: required include "/etc/jvb/gone.conf" not found`},
		{"include cycle", `include "a.conf"`, map[string]string{"a.conf": `include "a.conf"`},
			"/etc/jvb/a.conf:1:1: include cycle: /etc/jvb/a.conf"},
		{"deep nesting", "a = " + strings.Repeat("[", maxNesting+1), nil,
			"/etc/jvb/jvb.conf:1:" + strconv.Itoa(4+maxNesting+1) + ": values nested too deeply"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseAndResolve(tt.src, tt.files, nil)
			if err == nil {
				t.Fatalf("no error, want %q", tt.want)
			}
			if err.Error() != tt.want {
				t.Errorf("got  %q\nwant %q", err.Error(), tt.want)
			}
			if !errors.Is(err, ErrParse) {
				t.Errorf("errors.Is(err, ErrParse) = false for %T", err)
			}
		})
	}
}

// The Jicofo reference files are not ours to load, but the reader must handle them.
func TestParseJicofoReferenceFiles(t *testing.T) {
	for _, name := range []string{"jicofo-reference.conf", "jicofo-common-reference.conf", "jicofo-selector-reference.conf"} {
		t.Run(name, func(t *testing.T) {
			v := parseTestdata(t, name)
			if v.at("jicofo") == nil || v.at("jicofo").kind != kindObject {
				t.Fatalf("no jicofo object in %s", dump(v))
			}
		})
	}
	v := parseTestdata(t, "jicofo-common-reference.conf")
	if got := dump(v.at("jicofo.octo.sctp-datachannels")); got != `"true"` {
		t.Errorf("jicofo.octo.sctp-datachannels = %s, want the substituted \"true\"", got)
	}
	if got := dump(v.at("jicofo.xmpp.client.resource")); got != `"focus"` {
		t.Errorf("jicofo.xmpp.client.resource = %s", got)
	}
}

func parseTestdata(t *testing.T, name string) *value {
	t.Helper()
	path := filepath.Join(testdataDir, name)
	data := readTestdata(t, name)
	root, err := parseHOCON(path, data, &parseOptions{readFile: noFiles})
	if err != nil {
		t.Fatal(err)
	}
	v, err := resolveTree(root, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func noFiles(string) ([]byte, error) { return nil, fs.ErrNotExist }

func TestHOCONLimits(t *testing.T) {
	var chain strings.Builder
	for i := 0; i < 2*maxResolveDepth; i++ {
		fmt.Fprintf(&chain, "a%d = ${a%d}\n", i, i+1)
	}
	chain.WriteString("a" + strconv.Itoa(2*maxResolveDepth) + " = end\n")
	var bomb strings.Builder
	bomb.WriteString("x0 = ab\n")
	for i := 1; i < 64; i++ {
		fmt.Fprintf(&bomb, "x%d = ${x%d}${x%d}\n", i, i-1, i-1)
	}
	tests := []struct{ name, src, want string }{
		{"substitution chain", chain.String(), "substitutions nested too deeply"},
		{"expansion bomb", bomb.String(), "substitutions expand too much"},
		{"long dotted key in a list", "l = [{" + strings.Repeat("a.", maxPathDepth) + "a = 1}]", "key path too deep"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseAndResolve(tt.src, nil, nil)
			if err == nil || !strings.HasSuffix(err.Error(), tt.want) {
				t.Fatalf("got %v, want an error ending in %q", err, tt.want)
			}
		})
	}
}
