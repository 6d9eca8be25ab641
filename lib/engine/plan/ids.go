package plan

import "strings"

// idSet is the set of instance IDs a listing has taken, for telling a
// repeat from a new instance. A million-instance region would hold a
// million strings in a map (about 50 bytes each); an ECS instance ID
// ("i-" and up to 20 of [0-9a-z]) is packed exactly into 16 bytes
// instead, and any other ID is kept as it is.
type idSet struct {
	packed map[[2]uint64]struct{}
	other  map[string]struct{}
}

func newIDSet() *idSet {
	return &idSet{packed: map[[2]uint64]struct{}{}, other: map[string]struct{}{}}
}

// add adds id and reports whether it was new.
func (s *idSet) add(id string) bool {
	if k, ok := pack(id); ok {
		if _, dup := s.packed[k]; dup {
			return false
		}
		s.packed[k] = struct{}{}
		return true
	}
	if _, dup := s.other[id]; dup {
		return false
	}
	s.other[id] = struct{}{}
	return true
}

func (s *idSet) has(id string) bool {
	if k, ok := pack(id); ok {
		_, found := s.packed[k]
		return found
	}
	_, found := s.other[id]
	return found
}

// pack encodes "i-" and at most 20 of [0-9a-z] (6 bits each, 1 to 36, so
// that a shorter ID never equals a longer one) without loss.
func pack(id string) (k [2]uint64, ok bool) {
	rest, found := strings.CutPrefix(id, "i-")
	if !found || len(rest) > 20 {
		return k, false
	}
	for i := 0; i < len(rest); i++ {
		c := rest[i]
		var v uint64
		switch {
		case c >= '0' && c <= '9':
			v = uint64(c-'0') + 1
		case c >= 'a' && c <= 'z':
			v = uint64(c-'a') + 11
		default:
			return k, false
		}
		k[i/10] |= v << (6 * (i % 10))
	}
	return k, true
}
