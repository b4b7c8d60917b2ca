package state

import "fmt"

// BackendType is a state's StateMetaInfoSnapshot.BackendStateType
// (written as the enum's ordinal).
type BackendType string

const (
	KeyValue      BackendType = "KEY_VALUE"
	Operator      BackendType = "OPERATOR"
	Broadcast     BackendType = "BROADCAST"
	PriorityQueue BackendType = "PRIORITY_QUEUE"
	KeyValueV2    BackendType = "KEY_VALUE_V2"
)

var backendTypes = []BackendType{KeyValue, Operator, Broadcast, PriorityQueue, KeyValueV2}

// Serializer roles and option keys of a state's meta info.
const (
	RoleValue     = "VALUE_SERIALIZER"
	RoleNamespace = "NAMESPACE_SERIALIZER"
	RoleKey       = "KEY_SERIALIZER"

	OptionKeyedStateType   = "KEYED_STATE_TYPE"
	OptionDistributionMode = "OPERATOR_STATE_DISTRIBUTION_MODE"
)

// Meta is one state's meta info: its name, backend type, options and
// serializers by role.
type Meta struct {
	Name        string            `json:"name"`
	Type        BackendType       `json:"backend_type"`
	Options     map[string]string `json:"options,omitempty"`
	Serializers map[string]*Type  `json:"serializers"`
}

// Kind is the keyed state's kind (VALUE, LIST, MAP, REDUCING, AGGREGATING,
// FOLDING), "TIMERS" for a priority queue, or the distribution mode of
// operator state (SPLIT_DISTRIBUTE, UNION, BROADCAST).
func (m *Meta) Kind() string {
	switch m.Type {
	case KeyValue, KeyValueV2:
		return m.Options[OptionKeyedStateType]
	case PriorityQueue:
		return "TIMERS"
	}
	return m.Options[OptionDistributionMode]
}

// TTL reports whether the state's values carry a time-to-live wrapper
// (for LIST the element, for MAP the map value).
func (m *Meta) TTL() bool {
	v := m.Serializers[RoleValue]
	if v == nil {
		return false
	}
	switch m.Kind() {
	case "LIST":
		v = v.Elem
	case "MAP":
		v = v.Value
	}
	return v != nil && v.Kind == KindTTL
}

// KeyedProxy is the head of every keyed state file (Flink's
// KeyedBackendSerializationProxy): the key serializer and each state's
// meta info; a state's index in States is its id in the data.
type KeyedProxy struct {
	Version     int32   `json:"version"`
	Compression bool    `json:"compression"`
	Key         *Type   `json:"key"`
	States      []*Meta `json:"states"`
	// End is the file offset where the proxy ends (the data begins).
	End int64 `json:"-"`
}

// OperatorProxy is the head of an operator state file (Flink's
// OperatorBackendSerializationProxy).
type OperatorProxy struct {
	Version     int32   `json:"version"`
	Compression bool    `json:"compression"`
	States      []*Meta `json:"states"`
	Broadcast   []*Meta `json:"broadcast,omitempty"`
	End         int64   `json:"-"`
}

// ReadKeyedProxy decodes a keyed backend serialization proxy from b (the
// start of a keyed state file or an incremental checkpoint's meta
// stream). file names the file in errors.
func ReadKeyedProxy(b []byte, file string) (*KeyedProxy, error) {
	d := newDecoder(b, file, 0)
	p := &KeyedProxy{}
	at := d.pos
	var err error
	if p.Version, err = d.i32("keyed state proxy version"); err != nil {
		return nil, err
	}
	if p.Version != 6 {
		return nil, d.errf(at, "keyed state proxy version", "%w: version %d (Flink 1.7+ writes 6; Flink 1.17+ reads only 6)", ErrUnsupported, p.Version)
	}
	if p.Compression, err = d.boolean("keyed state compression flag"); err != nil {
		return nil, err
	}
	if p.Key, err = d.readSnapshot("key serializer"); err != nil {
		return nil, err
	}
	n, err := d.u16("number of states")
	if err != nil {
		return nil, err
	}
	for i := range int(n) {
		m, err := d.readMeta(fmt.Sprintf("state %d", i))
		if err != nil {
			return nil, err
		}
		p.States = append(p.States, m)
	}
	p.End = d.offset()
	return p, nil
}

// ReadOperatorProxy decodes an operator backend serialization proxy.
func ReadOperatorProxy(b []byte, file string) (*OperatorProxy, error) {
	d := newDecoder(b, file, 0)
	p := &OperatorProxy{}
	at := d.pos
	var err error
	if p.Version, err = d.i32("operator state proxy version"); err != nil {
		return nil, err
	}
	if p.Version < 5 || p.Version > 6 {
		return nil, d.errf(at, "operator state proxy version", "%w: version %d (Flink 1.7–1.17 write 5, 1.18+ 6)", ErrUnsupported, p.Version)
	}
	if p.Version >= 6 {
		if p.Compression, err = d.boolean("operator state compression flag"); err != nil {
			return nil, err
		}
	}
	for _, group := range []*[]*Meta{&p.States, &p.Broadcast} {
		n, err := d.u16("number of states")
		if err != nil {
			return nil, err
		}
		for i := range int(n) {
			m, err := d.readMeta(fmt.Sprintf("operator state %d", i))
			if err != nil {
				return nil, err
			}
			*group = append(*group, m)
		}
	}
	p.End = d.offset()
	return p, nil
}

// readMeta reads one StateMetaInfoSnapshot (meta-info format 6/7).
func (d *decoder) readMeta(want string) (*Meta, error) {
	m := &Meta{Options: map[string]string{}, Serializers: map[string]*Type{}}
	var err error
	if m.Name, err = d.utf(want + " name"); err != nil {
		return nil, err
	}
	want = fmt.Sprintf("state %q", m.Name)
	at := d.pos
	t, err := d.i32(want + " backend type")
	if err != nil {
		return nil, err
	}
	if t < 0 || int(t) >= len(backendTypes) {
		return nil, d.errf(at, want+" backend type", "ordinal %d", t)
	}
	m.Type = backendTypes[t]
	n, err := d.count(want+" options", 4)
	if err != nil {
		return nil, err
	}
	for range n {
		k, err := d.utf(want + " option key")
		if err != nil {
			return nil, err
		}
		v, err := d.utf(want + " option value")
		if err != nil {
			return nil, err
		}
		m.Options[k] = v
	}
	if n, err = d.count(want+" serializers", 6); err != nil {
		return nil, err
	}
	for range n {
		role, err := d.utf(want + " serializer role")
		if err != nil {
			return nil, err
		}
		s, err := d.readSnapshot(want + " " + role)
		if err != nil {
			return nil, err
		}
		m.Serializers[role] = s
	}
	return m, nil
}
