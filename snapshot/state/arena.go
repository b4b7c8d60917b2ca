package state

import "unsafe"

// arena hands out the decoded values of a scan in chunks: a full scan
// decodes millions of small values, and each one put in an Entry's
// interface field would otherwise be an allocation of its own (an int64,
// a string's header and its bytes, a Record). Values come out exactly as
// plain boxing gives them (same dynamic types, same contents); what
// changes is where they live. A nil *arena boxes plainly.
//
// An arena works one of two ways:
//   - keeping (new(arena), ReadKeyed and the other Entry-by-value readers):
//     a chunk's slots are written once, before their value is handed out,
//     and never again, so a value kept by a caller stays valid and keeps
//     its chunk (a few KiB) alive;
//   - reusing (newReusingArena, ScanKeyed): reset after every entry puts
//     the next entry's values in the same slots, and strings are not copied
//     at all (they point into the bytes being decoded). Nothing is
//     allocated per value; a value is valid only until the next reset.
type arena struct {
	i64  chunks[int64]
	i32  chunks[int32]
	f64  chunks[float64]
	strs chunks[string]
	recs chunks[Record]
	// fields and text are runs of slots: a Record's fields, a string's
	// bytes.
	fields []NamedItem
	text   []byte
	// reuse: reset empties the chunks for the next entry, and strings
	// borrow the decoded bytes (valid as long as the values are).
	reuse bool
}

// chunks is one kind of arena slot: values appended to a chunk of
// arenaSlots (a new chunk when it is full; a reusing arena rewinds).
type chunks[T any] struct{ cur []T }

// put stores v in the next slot and returns where.
func (c *chunks[T]) put(v T) *T {
	if len(c.cur) == cap(c.cur) {
		c.cur = make([]T, 0, arenaSlots)
	}
	c.cur = append(c.cur, v)
	return &c.cur[len(c.cur)-1]
}

func (c *chunks[T]) rewind() { c.cur = c.cur[:0] }

// Chunk sizes: small enough that a value kept alone pins little memory,
// large enough that the allocations disappear from a scan's profile.
const (
	arenaSlots = 256
	arenaText  = 16 << 10
)

func newReusingArena() *arena { return &arena{reuse: true} }

// reset makes a reusing arena's slots free for the next entry's values;
// every value handed out before is invalid from here on.
func (a *arena) reset() {
	a.i64.rewind()
	a.i32.rewind()
	a.f64.rewind()
	a.strs.rewind()
	a.recs.rewind()
	a.fields = a.fields[:0]
	a.text = a.text[:0]
}

// eface is the layout of an empty interface: its dynamic type and a
// pointer to its value (for the non-pointer types boxed here).
type eface struct {
	typ  unsafe.Pointer
	data unsafe.Pointer
}

func typeWord(v any) unsafe.Pointer { return (*eface)(unsafe.Pointer(&v)).typ }

var (
	typeInt64   = typeWord(int64(0))
	typeInt32   = typeWord(int32(0))
	typeFloat64 = typeWord(float64(0))
	typeString  = typeWord("")
)

// boxAt is an interface of dynamic type typ whose value is at p: what
// converting *p to any gives, without copying *p to a new allocation.
func boxAt(typ, p unsafe.Pointer) (v Value) {
	e := (*eface)(unsafe.Pointer(&v))
	e.typ, e.data = typ, p
	return v
}

func (a *arena) int64(v int64) Value {
	if a == nil {
		return v
	}
	return boxAt(typeInt64, unsafe.Pointer(a.i64.put(v)))
}

func (a *arena) int32(v int32) Value {
	if a == nil || uint32(v) < 256 {
		return v // small values box without an allocation
	}
	return boxAt(typeInt32, unsafe.Pointer(a.i32.put(v)))
}

func (a *arena) float64(v float64) Value {
	if a == nil {
		return v
	}
	return boxAt(typeFloat64, unsafe.Pointer(a.f64.put(v)))
}

// bytesString is string(b): b's bytes copied into the arena's text (a
// reusing arena does not copy: the string is b's bytes). Strings longer
// than a quarter chunk get their own allocation.
func (a *arena) bytesString(b []byte) Value {
	if a == nil {
		return string(b)
	}
	if len(b) == 0 {
		return a.string("")
	}
	if a.reuse {
		return a.string(unsafe.String(&b[0], len(b)))
	}
	if len(b) > arenaText/4 {
		return a.string(string(b))
	}
	if cap(a.text)-len(a.text) < len(b) {
		a.text = make([]byte, 0, arenaText)
	}
	at := len(a.text)
	a.text = append(a.text, b...)
	return a.string(unsafe.String(&a.text[at], len(b)))
}

// string boxes s (its bytes stay where they are).
func (a *arena) string(s string) Value {
	if a == nil {
		return s
	}
	return boxAt(typeString, unsafe.Pointer(a.strs.put(s)))
}

// record is newRecord from the arena's chunks: the Record, and its
// Fields (empty, room for n) from a run of field slots.
func (a *arena) record(class string, n int) *Record {
	if a == nil {
		return newRecord(class, n)
	}
	r := a.recs.put(Record{Class: class})
	if n > 0 {
		if cap(a.fields)-len(a.fields) < n {
			a.fields = make([]NamedItem, 0, max(arenaSlots, n))
		}
		at := len(a.fields)
		a.fields = a.fields[:at+n]
		r.Fields = a.fields[at : at : at+n]
	}
	return r
}
