package config

import (
	"errors"
	"fmt"
	"strings"
)

// This file holds the HOCON value tree shared by the parser (hocon.go) and the resolver
// (hocon_resolve.go). The tree is internal: Load turns it into a typed Config.

// ErrParse is matched (errors.Is) by every *ParseError: a HOCON syntax error, an include that
// cannot be read, or a substitution that cannot be resolved.
var ErrParse = errors.New("config: cannot parse")

// ParseError is a HOCON error at a position in a source file.
type ParseError struct {
	File string
	Line int // 1-based
	Col  int // 1-based, in characters (runes)
	Msg  string
}

func (e *ParseError) Error() string {
	return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Col, e.Msg)
}

// Is makes errors.Is(err, ErrParse) true for every ParseError.
func (e *ParseError) Is(target error) bool { return target == ErrParse }

// pos is where a value starts in its source file.
type pos struct {
	file      string
	line, col int
}

func (p pos) errorf(format string, args ...any) *ParseError {
	return &ParseError{File: p.file, Line: p.line, Col: p.col, Msg: fmt.Sprintf(format, args...)}
}

type kind uint8

const (
	kindNull   kind = iota
	kindString      // every scalar: strings, numbers and booleans are kept as their text
	kindObject
	kindList
	// The kinds below exist only before resolution.
	kindSubst  // ${path} or ${?path}
	kindConcat // value concatenation: `${a}"-x"`, `5 seconds`, `${a} { b = 1 }`
	kindMerge  // a repeated key whose newer value is unresolved: items = [older, newer]
)

func (k kind) String() string {
	switch k {
	case kindNull:
		return "null"
	case kindString:
		return "string"
	case kindObject:
		return "object"
	case kindList:
		return "list"
	case kindSubst:
		return "substitution"
	case kindConcat:
		return "concatenation"
	default:
		return "merge"
	}
}

// value is one node of the tree. Which fields are meaningful depends on kind.
type value struct {
	kind kind
	pos  pos

	text   string // kindString
	quoted bool   // kindString: written in quotes (so `"null"` is a string, not null)
	ws     bool   // kindString: whitespace between two parts of a concatenation

	keys   []string          // kindObject: keys in first-definition order
	fields map[string]*value // kindObject

	items []*value // kindList elements; kindConcat parts; kindMerge [older, newer]

	path     []string // kindSubst: the path as written
	prefix   []string // kindSubst: where the file was included; tried first (HOCON include fix-up)
	optional bool     // kindSubst: ${?path}
	selfRef  bool     // kindSubst: names the field it defines, which had no earlier value
}

func newObject(p pos) *value {
	return &value{kind: kindObject, pos: p, fields: map[string]*value{}}
}

func newString(p pos, text string) *value {
	return &value{kind: kindString, pos: p, text: text, quoted: true}
}

// set adds or replaces a field, keeping the position of the first definition.
func (v *value) set(key string, child *value) {
	if _, ok := v.fields[key]; !ok {
		v.keys = append(v.keys, key)
	}
	v.fields[key] = child
}

func (v *value) unresolved() bool {
	return v.kind == kindSubst || v.kind == kindConcat || v.kind == kindMerge
}

// at returns the value at a dotted path of plain keys in a resolved tree, or nil.
func (v *value) at(dotted string) *value {
	cur := v
	for _, k := range strings.Split(dotted, ".") {
		if cur == nil || cur.kind != kindObject {
			return nil
		}
		cur = cur.fields[k]
	}
	return cur
}

// scalarText returns the text of a string, number or boolean value.
func (v *value) scalarText() (string, error) {
	if v.kind != kindString {
		return "", fmt.Errorf("expected a single value, got %s", v.kind)
	}
	return v.text, nil
}

// childPath extends an absolute key path. A nil parent means "position unknown" (inside a
// list), which stays nil so self-reference detection is skipped there.
func childPath(parent []string, keys ...string) []string {
	if parent == nil {
		return nil
	}
	out := make([]string, 0, len(parent)+len(keys))
	out = append(out, parent...)
	return append(out, keys...)
}

func samePath(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// mergeField sets obj[key] = nv with HOCON's rules for a repeated key: objects merge deeply,
// anything else replaces the earlier value, and a newer value that is not yet resolved is
// merged when resolved (kindMerge). objPath is obj's absolute path (nil inside lists).
func mergeField(obj *value, objPath []string, key string, nv *value) {
	fieldPath := childPath(objPath, key)
	old, exists := obj.fields[key]
	if !exists {
		obj.set(key, replaceSelfRefs(nv, fieldPath, nil))
		return
	}
	if nv.kind == kindObject {
		switch {
		case old.kind == kindObject:
			for _, k := range nv.keys {
				mergeField(old, fieldPath, k, nv.fields[k])
			}
		case old.unresolved():
			obj.set(key, &value{kind: kindMerge, pos: nv.pos, items: []*value{old, nv}})
		default:
			obj.set(key, nv) // an object replaces a scalar, list or null
		}
		return
	}
	nv = replaceSelfRefs(nv, fieldPath, old)
	if nv.unresolved() {
		// `a = ${?x}` keeps the earlier a when x is undefined; `a = ${x}` merges when x
		// turns out to be an object and the earlier a is one too.
		nv = &value{kind: kindMerge, pos: nv.pos, items: []*value{old, nv}}
	}
	obj.set(key, nv)
}

// replaceSelfRefs handles `a = ${a} x` and `a += x`: a substitution naming the field being
// defined refers to the field's previous value (HOCON "self-referential substitutions").
// Without a previous value it is looked up outside this file only (fallback, environment).
func replaceSelfRefs(nv *value, fieldPath []string, old *value) *value {
	if fieldPath == nil {
		return nv
	}
	fix := func(s *value) *value {
		if s.kind != kindSubst || !samePath(s.absPath(), fieldPath) {
			return s
		}
		if old != nil {
			return old
		}
		cp := *s
		cp.selfRef = true
		return &cp
	}
	switch nv.kind {
	case kindSubst:
		return fix(nv)
	case kindConcat:
		for i, part := range nv.items {
			nv.items[i] = fix(part)
		}
	}
	return nv
}

// absPath is the path a substitution most likely names: fixed up by its include location.
func (v *value) absPath() []string {
	if len(v.prefix) == 0 {
		return v.path
	}
	return childPath(v.prefix, v.path...)
}
