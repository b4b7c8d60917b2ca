package state

import "unsafe"

// arena hands out the decoded values of a scan in chunks: a full scan
// decodes millions of small values, and each one put in an Entry's
// interface field would otherwise be an allocation of its own (an int64,
// a string's header and its bytes, a Record). Values come out exactly as
// plain boxing gives them (same dynamic types, same contents); what
// changes is that a chunk holds many of them, so a value kept by a caller
// keeps its chunk (a few KiB) alive. Slots are written once, before their
// value is handed out, and never again. A nil *arena boxes plainly.
type arena struct {
	i64  []int64
	i32  []int32
	f64  []float64
	strs []string
	text []byte
	recs []record4
}

// Chunk sizes: small enough that a value kept alone pins little memory,
// large enough that the allocations disappear from a scan's profile.
const (
	arenaSlots = 256
	arenaText  = 16 << 10
	arenaRecs  = 64
)

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
	if len(a.i64) == cap(a.i64) {
		a.i64 = make([]int64, 0, arenaSlots)
	}
	a.i64 = append(a.i64, v)
	return boxAt(typeInt64, unsafe.Pointer(&a.i64[len(a.i64)-1]))
}

func (a *arena) int32(v int32) Value {
	if a == nil || uint32(v) < 256 {
		return v // small values box without an allocation
	}
	if len(a.i32) == cap(a.i32) {
		a.i32 = make([]int32, 0, arenaSlots)
	}
	a.i32 = append(a.i32, v)
	return boxAt(typeInt32, unsafe.Pointer(&a.i32[len(a.i32)-1]))
}

func (a *arena) float64(v float64) Value {
	if a == nil {
		return v
	}
	if len(a.f64) == cap(a.f64) {
		a.f64 = make([]float64, 0, arenaSlots)
	}
	a.f64 = append(a.f64, v)
	return boxAt(typeFloat64, unsafe.Pointer(&a.f64[len(a.f64)-1]))
}

// bytesString is string(b): b's bytes copied into the arena's text.
// Strings longer than a quarter chunk get their own allocation.
func (a *arena) bytesString(b []byte) Value {
	if a == nil {
		return string(b)
	}
	if len(b) == 0 {
		return a.string("")
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
	if len(a.strs) == cap(a.strs) {
		a.strs = make([]string, 0, arenaSlots)
	}
	a.strs = append(a.strs, s)
	return boxAt(typeString, unsafe.Pointer(&a.strs[len(a.strs)-1]))
}

// record is newRecord from the arena's chunk of records.
func (a *arena) record(class string, n int) *Record {
	if a == nil || n > 4 {
		return newRecord(class, n)
	}
	if len(a.recs) == cap(a.recs) {
		a.recs = make([]record4, 0, arenaRecs)
	}
	a.recs = a.recs[:len(a.recs)+1] // a fresh chunk's slots are zero
	x := &a.recs[len(a.recs)-1]
	x.r.Class = class
	if n > 0 {
		x.r.Fields = x.f[:0:n]
	}
	return &x.r
}
