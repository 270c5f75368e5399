package config

import (
	"strings"
)

// Substitution happens after the whole document (with includes) is parsed and merged, so
// `${a.b}` sees the final a.b wherever it is defined (HOCON spec, "Substitutions").

// resolveBudget bounds the work of resolving one document. Substitutions can expand
// exponentially (`a = ${b}${b}`, `b = ${c}${c}`, ...); real configurations use a tiny fraction.
const resolveBudget = 1 << 22

// maxResolveDepth bounds chains of substitutions (`a1 = ${a2}`, `a2 = ${a3}`, ...), which
// recurse once per link.
const maxResolveDepth = 1000

type resolver struct {
	root     *value
	fallback *value                           // resolved defaults, consulted after root (like reference.conf)
	env      func(name string) (string, bool) // environment lookup, last resort (HOCON spec); may be nil
	memo     map[*value]*value                // resolved results; nil for undefined
	active   map[*value]bool                  // values being resolved (cycle detection)
	budget   int
}

// resolveTree resolves every substitution, concatenation and delayed merge in root. A path
// not found in root is looked up in fallback, then in the environment.
func resolveTree(root, fallback *value, env func(string) (string, bool)) (*value, error) {
	r := &resolver{root: root, fallback: fallback, env: env,
		memo: map[*value]*value{}, active: map[*value]bool{}, budget: resolveBudget}
	v, err := r.resolve(root)
	if err != nil {
		return nil, err
	}
	if v == nil || v.kind != kindObject {
		return nil, root.pos.errorf("the root of a configuration file must be an object")
	}
	return v, nil
}

// resolve returns the resolved form of v, or nil if v is undefined (an optional substitution
// that was not found).
func (r *resolver) resolve(v *value) (*value, error) {
	if v.kind == kindString || v.kind == kindNull {
		return v, nil
	}
	if res, ok := r.memo[v]; ok {
		return res, nil
	}
	if r.active[v] {
		if v.kind == kindSubst {
			return nil, v.pos.errorf("substitution cycle: ${%s}", strings.Join(v.path, "."))
		}
		return nil, v.pos.errorf("substitution cycle")
	}
	r.budget--
	if r.budget < 0 {
		return nil, v.pos.errorf("substitutions expand too much")
	}
	if len(r.active) >= maxResolveDepth {
		return nil, v.pos.errorf("substitutions nested too deeply")
	}
	r.active[v] = true
	res, err := r.resolveOnce(v)
	delete(r.active, v)
	if err != nil {
		return nil, err
	}
	r.memo[v] = res
	return res, nil
}

func (r *resolver) resolveOnce(v *value) (*value, error) {
	switch v.kind {
	case kindObject:
		out := newObject(v.pos)
		for _, k := range v.keys {
			child, err := r.resolve(v.fields[k])
			if err != nil {
				return nil, err
			}
			if child != nil {
				out.set(k, child)
			}
		}
		r.budget -= len(v.keys)
		return out, nil
	case kindList:
		out := &value{kind: kindList, pos: v.pos}
		for _, item := range v.items {
			child, err := r.resolve(item)
			if err != nil {
				return nil, err
			}
			if child != nil {
				out.items = append(out.items, child)
			}
		}
		r.budget -= len(v.items)
		return out, nil
	case kindSubst:
		return r.substitute(v)
	case kindConcat:
		return r.concat(v)
	default:
		return r.merge(v)
	}
}

func (r *resolver) substitute(s *value) (*value, error) {
	var candidates [][]string
	if !s.selfRef {
		if len(s.prefix) > 0 {
			candidates = append(candidates, s.absPath())
		}
		candidates = append(candidates, s.path)
	}
	for _, path := range candidates {
		found, err := r.walk(r.root, path)
		if err != nil {
			return nil, err
		}
		if found != nil {
			res, err := r.resolve(found)
			if err != nil || res != nil {
				return res, err
			}
		}
	}
	if r.fallback != nil {
		if found, err := r.walk(r.fallback, s.path); err != nil || found != nil {
			return found, err
		}
	}
	if r.env != nil {
		if text, ok := r.env(strings.Join(s.path, ".")); ok {
			return newString(s.pos, text), nil
		}
	}
	if s.optional {
		return nil, nil
	}
	return nil, s.pos.errorf("unresolved substitution ${%s}", strings.Join(s.path, "."))
}

// walk finds the (possibly unresolved) value at path. Objects on the way are walked without
// resolving them whole, so `a { b = 1, c = ${a.b} }` is not a cycle.
func (r *resolver) walk(from *value, path []string) (*value, error) {
	cur := from
	for _, seg := range path {
		if cur.kind != kindObject {
			res, err := r.resolve(cur)
			if err != nil || res == nil || res.kind != kindObject {
				return nil, err
			}
			cur = res
		}
		next, ok := cur.fields[seg]
		if !ok {
			return nil, nil
		}
		cur = next
	}
	return cur, nil
}

// concat joins the parts of a concatenation: strings join as text (whitespace between parts
// kept), lists append, objects merge; mixing them is an error.
func (r *resolver) concat(v *value) (*value, error) {
	parts := make([]*value, 0, len(v.items))
	var objects, lists, scalars int
	for _, item := range v.items {
		res, err := r.resolve(item)
		if err != nil {
			return nil, err
		}
		if res == nil {
			continue
		}
		parts = append(parts, res)
		switch {
		case res.kind == kindObject:
			objects++
		case res.kind == kindList:
			lists++
		case !res.ws:
			scalars++
		}
	}
	switch {
	case objects+lists+scalars == 0:
		return nil, nil
	case objects > 0 && lists+scalars == 0:
		var out *value
		for _, part := range parts {
			if part.kind == kindObject {
				out = r.mergeObjects(out, part)
			}
		}
		return out, nil
	case lists > 0 && objects+scalars == 0:
		out := &value{kind: kindList, pos: v.pos}
		for _, part := range parts {
			out.items = append(out.items, part.items...)
		}
		r.budget -= len(out.items)
		return out, nil
	case objects+lists == 0:
		var b strings.Builder
		for _, part := range parts {
			if part.kind == kindNull {
				b.WriteString("null")
			} else {
				b.WriteString(part.text)
			}
		}
		r.budget -= b.Len()
		if r.budget < 0 {
			return nil, v.pos.errorf("substitutions expand too much")
		}
		return newString(v.pos, b.String()), nil
	}
	return nil, v.pos.errorf("cannot concatenate %s", describeKinds(objects, lists, scalars))
}

func describeKinds(objects, lists, scalars int) string {
	var names []string
	if objects > 0 {
		names = append(names, "an object")
	}
	if lists > 0 {
		names = append(names, "a list")
	}
	if scalars > 0 {
		names = append(names, "a string")
	}
	return strings.Join(names, " and ")
}

// merge resolves a repeated key whose newer value was unresolved at parse time.
func (r *resolver) merge(v *value) (*value, error) {
	newer, err := r.resolve(v.items[1])
	if err != nil {
		return nil, err
	}
	if newer == nil { // `a = ${?undefined}` leaves the earlier a in place
		return r.resolve(v.items[0])
	}
	if newer.kind != kindObject {
		return newer, nil
	}
	older, err := r.resolve(v.items[0])
	if err != nil {
		return nil, err
	}
	if older == nil || older.kind != kindObject {
		return newer, nil
	}
	return r.mergeObjects(older, newer), nil
}

// mergeObjects returns a new resolved object: a's fields overridden by b's, objects merged
// deeply. It never modifies a or b (they may be shared through substitutions).
func (r *resolver) mergeObjects(a, b *value) *value {
	if a == nil {
		return b
	}
	out := newObject(a.pos)
	for _, k := range a.keys {
		out.set(k, a.fields[k])
	}
	for _, k := range b.keys {
		nb := b.fields[k]
		if na, ok := out.fields[k]; ok && na.kind == kindObject && nb.kind == kindObject {
			nb = r.mergeObjects(na, nb)
		}
		out.set(k, nb)
	}
	r.budget -= len(a.keys) + len(b.keys)
	return out
}
