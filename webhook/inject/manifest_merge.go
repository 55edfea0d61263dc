package inject

import "reflect"

// mergeChanges returns orig, an object as read, with the changes that turned norm into inj
// applied, where norm is orig decoded into its Go type and encoded again, and inj is the
// same after injection. What the injection did not touch is kept as read: the formatting of
// quantities and numbers, fields unknown to the Go type, omitted defaults. Lists of named
// items (containers, volumes, env) are matched by name, other lists by position.
func mergeChanges(orig, norm, inj any) any {
	if reflect.DeepEqual(norm, inj) {
		return orig
	}
	switch iv := inj.(type) {
	case map[string]any:
		om, ok1 := orig.(map[string]any)
		nm, ok2 := norm.(map[string]any)
		if !ok1 || !ok2 {
			return inj
		}
		return mergeMaps(om, nm, iv)
	case []any:
		ol, ok1 := orig.([]any)
		nl, ok2 := norm.([]any)
		if !ok1 || !ok2 || len(ol) != len(nl) {
			return inj
		}
		return mergeLists(ol, nl, iv)
	}
	return inj
}

// mergeMaps merges key by key. A key the injection added is taken from inj unless norm has
// it equal (a default the encoding adds, such as resources: {}); a key norm has and inj
// lacks was removed; a key only orig has is unknown to the Go type and kept.
func mergeMaps(orig, norm, inj map[string]any) map[string]any {
	out := make(map[string]any, len(inj))
	for k, ov := range orig {
		if _, known := norm[k]; !known {
			out[k] = ov
		}
	}
	for k, iv := range inj {
		ov, inOrig := orig[k]
		nv, inNorm := norm[k]
		switch {
		case inOrig:
			out[k] = mergeChanges(ov, nv, iv)
		case inNorm && reflect.DeepEqual(nv, iv):
			// An encoding default the object as read does not have: leave it out.
		default:
			out[k] = iv
		}
	}
	return out
}

// mergeLists merges the items of inj with those of orig: by name when every item of inj is
// named, else by position.
func mergeLists(orig, norm, inj []any) []any {
	out := make([]any, len(inj))
	byName := map[string]int{}
	for i, v := range norm {
		if name, ok := itemName(v); ok {
			byName[name] = i
		}
	}
	for i, iv := range inj {
		j := -1
		if name, ok := itemName(iv); ok {
			if k, found := byName[name]; found {
				j = k
			}
		} else if len(inj) == len(norm) {
			j = i
		}
		if j < 0 {
			out[i] = iv
			continue
		}
		out[i] = mergeChanges(orig[j], norm[j], iv)
	}
	return out
}

// itemName is the name of a list item that is a mapping with a name.
func itemName(v any) (string, bool) {
	m, ok := v.(map[string]any)
	if !ok {
		return "", false
	}
	name, ok := m["name"].(string)
	return name, ok && name != ""
}
