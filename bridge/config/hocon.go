package config

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"
	"unicode"
	"unicode/utf8"
)

// A reader for the subset of HOCON (github.com/lightbend/config/HOCON.md) that Jitsi
// configuration files use: objects, dotted keys, `=`/`:`/`+=` separators, optional commas,
// comments, quoted, triple-quoted and unquoted strings, lists, concatenation, repeated keys
// (objects merge deeply), ${path} and ${?path} substitutions and include.
//
// The Go HOCON libraries the module proxy serves mangle quoted values and reject unquoted IPs
// (reference/environment.md §1), so this one is written in-tree.
//
// Deliberate leniency: in a value (never in a key) unquoted text may contain characters HOCON
// reserves, such as ':' '@' '=' '+' '!' — so `host = ::1` and `MUC_JIDS = a@b` read as strings
// instead of failing.

const (
	maxNesting      = 200 // nested values ({ [ ... ), bounds recursion on hostile input
	maxPathDepth    = 512 // segments in an absolute key path
	maxIncludeDepth = 16
)

// parseOptions are the side effects a parse may have.
type parseOptions struct {
	readFile func(name string) ([]byte, error) // for include; os.ReadFile in production
}

type parser struct {
	src       string
	off       int
	line, col int
	file      string
	nesting   int
	opts      *parseOptions
	includes  []string // files being parsed, outermost first (cycle detection)
	prefix    []string // absolute path this file is included at (nil for the main file)
}

// parseHOCON parses one document into an unresolved tree (see resolveTree).
func parseHOCON(name string, src []byte, opts *parseOptions) (*value, error) {
	p := &parser{src: string(src), line: 1, col: 1, file: name, opts: opts, includes: []string{name}}
	return p.document()
}

func (p *parser) pos() pos { return pos{file: p.file, line: p.line, col: p.col} }

func (p *parser) errorf(format string, args ...any) error { return p.pos().errorf(format, args...) }

func (p *parser) eof() bool { return p.off >= len(p.src) }

func (p *parser) peek() byte {
	if p.eof() {
		return 0
	}
	return p.src[p.off]
}

func (p *parser) hasPrefix(s string) bool { return strings.HasPrefix(p.src[p.off:], s) }

// advance consumes n bytes, counting lines and (rune) columns.
func (p *parser) advance(n int) {
	for i := 0; i < n && p.off < len(p.src); i++ {
		c := p.src[p.off]
		p.off++
		switch {
		case c == '\n':
			p.line++
			p.col = 1
		case c&0xC0 != 0x80: // not a UTF-8 continuation byte
			p.col++
		}
	}
}

// spaceLen is the byte length of the whitespace character at the cursor (0 if none). Newlines
// are not whitespace here: they separate fields. The BOM counts as whitespace (HOCON spec).
func (p *parser) spaceLen() int { return spaceLenAt(p.src, p.off) }

func spaceLenAt(src string, off int) int {
	if off >= len(src) {
		return 0
	}
	c := src[off]
	if c < utf8.RuneSelf {
		if c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v' {
			return 1
		}
		return 0
	}
	r, n := utf8.DecodeRuneInString(src[off:])
	if r == '\uFEFF' || (r != utf8.RuneError && unicode.IsSpace(r)) {
		return n
	}
	return 0
}

func (p *parser) atComment() bool { return p.peek() == '#' || p.hasPrefix("//") }

// skipInline skips whitespace and a trailing comment, stopping before a newline.
func (p *parser) skipInline() {
	for !p.eof() {
		if n := p.spaceLen(); n > 0 {
			p.advance(n)
			continue
		}
		if p.atComment() {
			end := strings.IndexByte(p.src[p.off:], '\n')
			if end < 0 {
				end = len(p.src) - p.off
			}
			p.advance(end)
			continue
		}
		return
	}
}

// skipBlank skips whitespace, comments and newlines.
func (p *parser) skipBlank() {
	for {
		p.skipInline()
		if p.peek() != '\n' || p.eof() {
			return
		}
		p.advance(1)
	}
}

func (p *parser) document() (*value, error) {
	p.skipBlank()
	path := p.prefix
	if path == nil {
		path = []string{}
	}
	if !p.eof() && p.peek() == '[' {
		return nil, p.errorf("the root of a configuration file must be an object, not a list")
	}
	if !p.eof() && p.peek() == '{' {
		root, err := p.braced(path)
		if err != nil {
			return nil, err
		}
		p.skipBlank()
		if !p.eof() {
			return nil, p.errorf("unexpected %s after the root object", describe(p.peek()))
		}
		return root, nil
	}
	root := newObject(p.pos())
	if err := p.objectBody(root, path, false); err != nil {
		return nil, err
	}
	return root, nil
}

// braced parses `{ fields }`; path is the object's absolute path (nil inside lists).
func (p *parser) braced(path []string) (*value, error) {
	obj := newObject(p.pos())
	p.advance(1)
	if err := p.objectBody(obj, path, true); err != nil {
		return nil, err
	}
	p.advance(1) // '}'
	return obj, nil
}

// objectBody parses fields until '}' (braced) or end of input, leaving '}' unconsumed.
func (p *parser) objectBody(obj *value, path []string, braced bool) error {
	for {
		p.skipBlank()
		if p.eof() {
			if braced {
				return p.errorf("unexpected end of input, expected '}'")
			}
			return nil
		}
		switch p.peek() {
		case '}':
			if braced {
				return nil
			}
			return p.errorf("unexpected '}'")
		case ',':
			return p.errorf("unexpected ','")
		}
		if err := p.field(obj, path); err != nil {
			return err
		}
		p.skipInline()
		switch {
		case p.eof(), p.peek() == '}':
		case p.peek() == ',' || p.peek() == '\n':
			p.advance(1)
		default:
			return p.errorf("expected ',' or a newline after a value, got %s", describe(p.peek()))
		}
	}
}

func (p *parser) field(obj *value, path []string) error {
	if p.atInclude() {
		return p.include(obj, path)
	}
	keyPos := p.pos()
	segs, err := p.key()
	if err != nil {
		return err
	}
	full := childPath(path, segs...)
	if len(full) > maxPathDepth || len(segs) > maxPathDepth {
		return keyPos.errorf("key path too deep")
	}
	p.skipInline()
	appendMode := false
	switch {
	case p.hasPrefix("+="):
		appendMode = true
		p.advance(2)
	case p.peek() == '=' || p.peek() == ':':
		p.advance(1)
	case p.peek() == '{':
	default:
		if p.eof() {
			return p.errorf("unexpected end of input after key %q", strings.Join(segs, "."))
		}
		return p.errorf("expected '=', ':' or '{' after key %q, got %s", strings.Join(segs, "."), describe(p.peek()))
	}
	p.skipBlank()
	v, err := p.value(full)
	if err != nil {
		return err
	}
	if appendMode {
		// `a += x` is sugar for `a = ${?a} [x]` (HOCON spec).
		if full == nil {
			return keyPos.errorf("'+=' is not supported inside a list")
		}
		self := &value{kind: kindSubst, pos: keyPos, path: full, optional: true}
		list := &value{kind: kindList, pos: v.pos, items: []*value{v}}
		v = &value{kind: kindConcat, pos: keyPos, items: []*value{self, list}}
	}
	for i := len(segs) - 1; i > 0; i-- { // `a.b.c = v` is `a { b { c = v } }`
		wrap := newObject(keyPos)
		mergeField(wrap, childPath(path, segs[:i]...), segs[i], v)
		v = wrap
	}
	mergeField(obj, path, segs[0], v)
	return nil
}

// describe names a byte for an error message.
func describe(c byte) string {
	if c == '\n' {
		return "a newline"
	}
	return fmt.Sprintf("%q", c)
}

// isKeyChar reports whether c may appear in an unquoted key (HOCON reserved characters,
// whitespace and '.' excluded; '.' separates path segments).
func isKeyChar(c byte) bool {
	switch c {
	case '$', '"', '{', '}', '[', ']', ':', '=', ',', '+', '#', '`', '^', '?', '!', '@', '*', '&', '\\', '.', '\n':
		return false
	}
	return c != ' ' && c != '\t' && c != '\r' && c != '\f' && c != '\v'
}

// key parses a path expression (`a.b."c.d"`) into its segments. Whitespace between unquoted
// words belongs to the key (`foo bar = 1`); whitespace before the separator does not.
func (p *parser) key() ([]string, error) {
	start := p.pos()
	var segs []string
	var cur strings.Builder
	started := false
	for !p.eof() {
		c := p.peek()
		switch {
		case c == '"':
			s, err := p.quotedText()
			if err != nil {
				return nil, err
			}
			cur.WriteString(s)
			started = true
		case c == '.':
			if !started {
				return nil, p.errorf("empty key segment")
			}
			segs = append(segs, cur.String())
			cur.Reset()
			started = false
			p.advance(1)
		case p.spaceLen() > 0:
			save := *p
			p.skipInline()
			if p.eof() || (!isKeyChar(p.peek()) && p.peek() != '"' && p.peek() != '.') {
				return finishKey(segs, cur.String(), started, start)
			}
			cur.WriteString(save.src[save.off:p.off])
		case isKeyChar(c) && !p.hasPrefix("//"):
			n := 0
			for p.off+n < len(p.src) && isKeyChar(p.src[p.off+n]) && !strings.HasPrefix(p.src[p.off+n:], "//") {
				n++
			}
			cur.WriteString(p.src[p.off : p.off+n])
			p.advance(n)
			started = true
		default:
			return finishKey(segs, cur.String(), started, start)
		}
	}
	return finishKey(segs, cur.String(), started, start)
}

func finishKey(segs []string, last string, started bool, start pos) ([]string, error) {
	if !started {
		if len(segs) == 0 {
			return nil, start.errorf("expected a key")
		}
		return nil, start.errorf("key ends with '.'")
	}
	return append(segs, last), nil
}

// value parses a value with any concatenation that follows on the same line.
func (p *parser) value(path []string) (*value, error) {
	p.nesting++
	defer func() { p.nesting-- }()
	if p.nesting > maxNesting {
		return nil, p.errorf("values nested too deeply")
	}
	start := p.pos()
	var parts []*value
	pendingWS, wsPos := "", pos{}
	for !p.eof() {
		if p.spaceLen() > 0 {
			wsPos = p.pos()
			from := p.off
			for p.spaceLen() > 0 {
				p.advance(p.spaceLen())
			}
			pendingWS = p.src[from:p.off]
			continue
		}
		c := p.peek()
		if c == '\n' || c == ',' || c == '}' || c == ']' || p.atComment() {
			break
		}
		part, err := p.part(path)
		if err != nil {
			return nil, err
		}
		if pendingWS != "" && len(parts) > 0 {
			parts = append(parts, &value{kind: kindString, pos: wsPos, text: pendingWS, ws: true})
		}
		pendingWS = ""
		parts = append(parts, part)
	}
	switch len(parts) {
	case 0:
		if p.eof() {
			return nil, p.errorf("unexpected end of input, expected a value")
		}
		return nil, p.errorf("expected a value, got %s", describe(p.peek()))
	case 1:
		if v := parts[0]; v.kind == kindString && !v.quoted && v.text == "null" {
			v.kind, v.text = kindNull, ""
		}
		return parts[0], nil
	}
	return &value{kind: kindConcat, pos: start, items: parts}, nil
}

// part parses one piece of a value: a string, a substitution, an object or a list.
func (p *parser) part(path []string) (*value, error) {
	start := p.pos()
	switch {
	case p.hasPrefix(`"""`):
		s, err := p.tripleQuotedText()
		return &value{kind: kindString, pos: start, text: s, quoted: true}, err
	case p.peek() == '"':
		s, err := p.quotedText()
		return &value{kind: kindString, pos: start, text: s, quoted: true}, err
	case p.hasPrefix("${"):
		return p.substitution()
	case p.peek() == '{':
		return p.braced(path)
	case p.peek() == '[':
		return p.list()
	}
	n := 0
	for p.off+n < len(p.src) {
		rest := p.src[p.off+n:]
		c := rest[0]
		if c == '\n' || c == '"' || c == '{' || c == '}' || c == '[' || c == ']' || c == ',' || c == '#' ||
			strings.HasPrefix(rest, "//") || strings.HasPrefix(rest, "${") {
			break
		}
		if spaceLenAt(p.src, p.off+n) > 0 {
			break
		}
		n++
	}
	text := p.src[p.off : p.off+n]
	p.advance(n)
	return &value{kind: kindString, pos: start, text: text}, nil
}

func (p *parser) list() (*value, error) {
	l := &value{kind: kindList, pos: p.pos()}
	p.advance(1)
	for {
		p.skipBlank()
		if p.eof() {
			return nil, p.errorf("unexpected end of input, expected ']'")
		}
		switch p.peek() {
		case ']':
			p.advance(1)
			return l, nil
		case ',':
			return nil, p.errorf("unexpected ','")
		}
		item, err := p.value(nil)
		if err != nil {
			return nil, err
		}
		l.items = append(l.items, item)
		p.skipInline()
		switch {
		case p.eof(), p.peek() == ']':
		case p.peek() == ',' || p.peek() == '\n':
			p.advance(1)
		default:
			return nil, p.errorf("expected ',' or a newline in list, got %s", describe(p.peek()))
		}
	}
}

func (p *parser) substitution() (*value, error) {
	s := &value{kind: kindSubst, pos: p.pos(), prefix: p.prefix}
	p.advance(2)
	if p.peek() == '?' {
		s.optional = true
		p.advance(1)
	}
	p.skipInline()
	path, err := p.key()
	if err != nil {
		return nil, err
	}
	p.skipInline()
	if p.peek() != '}' || p.eof() {
		return nil, p.errorf("expected '}' to close substitution")
	}
	p.advance(1)
	s.path = path
	return s, nil
}

// quotedText parses a JSON-style quoted string with escapes.
func (p *parser) quotedText() (string, error) {
	start := p.pos()
	p.advance(1)
	var b strings.Builder
	for {
		if p.eof() {
			return "", start.errorf("unterminated quoted string")
		}
		c := p.peek()
		switch c {
		case '"':
			p.advance(1)
			return b.String(), nil
		case '\n':
			return "", p.errorf("newline in quoted string (use \"\"\" for multi-line strings)")
		case '\\':
			if err := p.escape(&b); err != nil {
				return "", err
			}
		default:
			b.WriteByte(c)
			p.advance(1)
		}
	}
}

func (p *parser) escape(b *strings.Builder) error {
	at := p.pos()
	p.advance(1)
	if p.eof() {
		return at.errorf("unterminated escape sequence")
	}
	c := p.peek()
	p.advance(1)
	switch c {
	case '"', '\\', '/':
		b.WriteByte(c)
	case 'b':
		b.WriteByte('\b')
	case 'f':
		b.WriteByte('\f')
	case 'n':
		b.WriteByte('\n')
	case 'r':
		b.WriteByte('\r')
	case 't':
		b.WriteByte('\t')
	case 'u':
		r, ok := p.hex4()
		if !ok {
			return at.errorf(`invalid \u escape`)
		}
		if utf16IsHigh(r) && p.hasPrefix(`\u`) { // a surrogate pair
			save := *p
			p.advance(2)
			if lo, ok := p.hex4(); ok && utf16IsLow(lo) {
				r = (r-0xD800)<<10 + (lo - 0xDC00) + 0x10000
			} else {
				*p = save
			}
		}
		b.WriteRune(r) // a lone surrogate becomes U+FFFD
	default:
		return at.errorf("invalid escape sequence \\%c", c)
	}
	return nil
}

func (p *parser) hex4() (rune, bool) {
	if len(p.src)-p.off < 4 {
		return 0, false
	}
	var r rune
	for _, c := range []byte(p.src[p.off : p.off+4]) {
		var d byte
		switch {
		case c >= '0' && c <= '9':
			d = c - '0'
		case c >= 'a' && c <= 'f':
			d = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			d = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(d)
	}
	p.advance(4)
	return r, true
}

func utf16IsHigh(r rune) bool { return r >= 0xD800 && r < 0xDC00 }
func utf16IsLow(r rune) bool  { return r >= 0xDC00 && r < 0xE000 }

// tripleQuotedText parses """raw text""" (no escapes; quotes just before the closing three
// belong to the text, as the spec says).
func (p *parser) tripleQuotedText() (string, error) {
	start := p.pos()
	p.advance(3)
	idx := strings.Index(p.src[p.off:], `"""`)
	if idx < 0 {
		return "", start.errorf(`unterminated """ string`)
	}
	end := p.off + idx
	for end+3 < len(p.src) && p.src[end+3] == '"' {
		end++
	}
	text := p.src[p.off:end]
	p.advance(end + 3 - p.off)
	return text, nil
}

// atInclude reports whether the cursor is at an include directive rather than a key that
// happens to be named "include".
func (p *parser) atInclude() bool {
	if !p.hasPrefix("include") {
		return false
	}
	save := *p
	defer func() { *p = save }()
	p.advance(len("include"))
	if p.spaceLen() == 0 && p.peek() != '"' {
		return false
	}
	p.skipInline()
	return p.peek() == '"' || p.hasPrefix("file(") || p.hasPrefix("required(") ||
		p.hasPrefix("url(") || p.hasPrefix("classpath(")
}

// include parses `include "f"`, `include file("f")`, `include required(...)`,
// `include url(...)` or `include classpath(...)` and merges the file into obj. A missing file
// is silently ignored unless required (HOCON spec); url and classpath includes are ignored
// because a bridge has neither.
func (p *parser) include(obj *value, path []string) error {
	at := p.pos()
	p.advance(len("include"))
	p.skipInline()
	required := p.call("required")
	kindName, wrapped := "file", false
	for _, k := range []string{"file", "url", "classpath"} {
		if p.call(k) {
			kindName, wrapped = k, true
			break
		}
	}
	if p.peek() != '"' || p.eof() {
		return p.errorf("expected a quoted file name after include")
	}
	name, err := p.quotedText()
	if err != nil {
		return err
	}
	for _, open := range []bool{wrapped, required} {
		if !open {
			continue
		}
		p.skipInline()
		if p.peek() != ')' || p.eof() {
			return p.errorf("expected ')' in include")
		}
		p.advance(1)
	}
	if kindName != "file" {
		if required {
			return at.errorf("include %s(%q): only file includes are supported", kindName, name)
		}
		return nil
	}
	return p.includeFile(obj, path, name, required, at)
}

// call consumes `name(` and the whitespace after it.
func (p *parser) call(name string) bool {
	if !p.hasPrefix(name + "(") {
		return false
	}
	p.advance(len(name) + 1)
	p.skipInline()
	return true
}

func (p *parser) includeFile(obj *value, path []string, name string, required bool, at pos) error {
	if path == nil {
		return at.errorf("include is not supported inside a list")
	}
	if len(p.includes) > maxIncludeDepth {
		return at.errorf("includes nested too deeply")
	}
	if !filepath.IsAbs(name) {
		name = filepath.Join(filepath.Dir(p.file), name)
	}
	candidates := []string{name}
	if filepath.Ext(name) == "" { // HOCON: a name without extension means name.conf or name.json
		candidates = append(candidates, name+".conf", name+".json")
	}
	for _, cand := range candidates {
		for _, f := range p.includes {
			if f == cand {
				return at.errorf("include cycle: %s", cand)
			}
		}
		data, err := p.opts.readFile(cand)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return at.errorf("include %q: %v", cand, err)
		}
		child := &parser{src: string(data), line: 1, col: 1, file: cand, opts: p.opts,
			includes: append(append([]string(nil), p.includes...), cand), prefix: childPath(path)}
		root, err := child.document()
		if err != nil {
			return err
		}
		for _, k := range root.keys {
			mergeField(obj, path, k, root.fields[k])
		}
		return nil
	}
	if required {
		return at.errorf("required include %q not found", name)
	}
	return nil
}
