package inspector

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/ckpt-dev/ckpt/snapshot"
	"github.com/ckpt-dev/ckpt/snapshot/state"
	"github.com/ckpt-dev/ckpt/storage"
)

// Upgrade risk of a resume: what the state's serializers say about moving
// it to another job or another Flink. It reads only the heads of the state
// streams (the serialization proxies: names, kinds, serializer snapshots),
// never the entries, so its time does not grow with the state's size.

// RiskKind names one kind of upgrade risk.
type RiskKind string

const (
	// RiskKryo: the state (or a part of its type) is serialized by Kryo.
	RiskKryo RiskKind = "kryo"
	// RiskJava: the state is serialized with Java serialization.
	RiskJava RiskKind = "java_serialization"
	// RiskTTL: the state has a time-to-live.
	RiskTTL RiskKind = "ttl"
	// RiskIncompatible: the new job's serializer is incompatible with the
	// snapshot's: Flink refuses the restore (StateMigrationException).
	RiskIncompatible RiskKind = "incompatible_serializer"
	// RiskKindChanged: the new job registers the state with another kind
	// (VALUE for a REDUCING state): Flink refuses the restore.
	RiskKindChanged RiskKind = "state_kind_changed"
)

// Label is the risk's short upper-case name in a dry run's listing.
func (k RiskKind) Label() string {
	switch k {
	case RiskKryo:
		return "KRYO"
	case RiskJava:
		return "JAVA"
	case RiskTTL:
		return "TTL"
	case RiskIncompatible:
		return "SERIALIZER"
	case RiskKindChanged:
		return "KIND"
	}
	return strings.ToUpper(string(k))
}

// KryoGuidance is Flink's own advice for Kryo state, in one line.
const KryoGuidance = "Flink 2.0 moved from Kryo 2.24 to Kryo 5.6 (FLIP-317) and cannot read Kryo state written by Flink 1.x: " +
	"give such types a Flink serializer (POJO, Avro, a TypeInformation) and rewrite the state on 1.x (State Processor API) before upgrading"

// StateRisk is one risk of one state.
type StateRisk struct {
	OperatorID string `json:"operator_id"`
	UID        string `json:"uid,omitempty"`
	// State is the state's name; "" for the operator's key.
	State string `json:"state"`
	// Scope: keyed, operator, broadcast, or key.
	Scope string `json:"scope"`
	// Kind is the state's kind (VALUE, LIST, …, TIMERS) or distribution
	// mode (SPLIT_DISTRIBUTE, UNION, BROADCAST).
	Kind string   `json:"kind,omitempty"`
	Risk RiskKind `json:"risk"`
	// Type is the type at risk: Kryo(com.acme.Event), TTL<Long>, or the
	// snapshot's type of an incompatible state.
	Type   string `json:"type"`
	Detail string `json:"detail"`
	// Refused: Flink refuses the restore because of it.
	Refused bool `json:"refused"`
}

// What names what is at risk: `state "orders" (keyed VALUE)`, or "the
// key" for the operator's key.
func (r StateRisk) What() string {
	if r.Scope == "key" {
		return "the key"
	}
	return fmt.Sprintf("state %q (%s %s)", r.State, r.Scope, r.Kind)
}

// SchemaGap is a restored operator whose state schema could not be read,
// so its risks are unknown.
type SchemaGap struct {
	OperatorID string `json:"operator_id"`
	UID        string `json:"uid,omitempty"`
	Reason     string `json:"reason"`
	// Engine: ckpt's own engine state, which records no serializer types.
	Engine bool `json:"ckpt_engine_state,omitempty"`
}

// UpgradeRisks is the upgrade-risk part of a resume dry run.
type UpgradeRisks struct {
	// WrittenBy names the snapshot's writer ("Flink 1.16+"): Kryo state
	// written by Flink 1.x is Kryo 2.
	WrittenBy string      `json:"written_by"`
	Risks     []StateRisk `json:"risks"`
	Unread    []SchemaGap `json:"unread"`
	// KryoGuidance is set when a Kryo risk is listed.
	KryoGuidance string `json:"kryo_guidance,omitempty"`
	// TypesChecked: the new job declared its state types (a ckpt job
	// spec) and they were compared with the snapshot's.
	TypesChecked bool `json:"types_checked"`
}

// Refused reports whether a listed risk makes Flink refuse the restore.
func (u *UpgradeRisks) Refused() bool {
	for _, r := range u.Risks {
		if r.Refused {
			return true
		}
	}
	return false
}

// Count is the number of risks of kind k.
func (u *UpgradeRisks) Count(k RiskKind) int {
	n := 0
	for _, r := range u.Risks {
		if r.Risk == k {
			n++
		}
	}
	return n
}

// DeclaredSchema is the keyed state a new job's operator registers, typed
// as Flink's serializers type it: known for ckpt job specs (built-in
// operators), unknown (nil) for a uid list.
type DeclaredSchema struct {
	Key    *state.Type
	States []DeclaredState
}

// DeclaredState is one keyed state the new job registers.
type DeclaredState struct {
	Name string
	// Kind: VALUE, LIST, MAP, REDUCING, AGGREGATING.
	Kind      string
	Namespace *state.Type
	Value     *state.Type
}

// AssessUpgrade reads the schema of every operator plan restores (stream
// heads only) and lists their upgrade risks, comparing the types the
// target declares where it does (see DeclaredSchema). It sets
// plan.Upgrade and returns it. A schema that cannot be read is listed in
// Unread with the reason, never guessed.
func AssessUpgrade(ctx context.Context, fsys storage.FS, m *snapshot.Metadata, plan *ResumePlan, target Target) *UpgradeRisks {
	restored := map[string]bool{}
	for _, op := range plan.Restored {
		restored[op.ID] = true
	}
	sub := *m
	sub.Operators = nil
	for _, op := range m.Operators {
		if restored[op.ID.String()] && operatorHasState(op) {
			sub.Operators = append(sub.Operators, op)
		}
	}
	declared := map[string]*DeclaredSchema{}
	for _, o := range target.Operators {
		if o.Declared != nil {
			declared[o.id().String()] = o.Declared
		}
	}
	schema := state.ReadSchema(ctx, fsys, &sub)
	// Flink ≥ 2.0 stores uids; older snapshots get the plan's names.
	uids := map[string]string{}
	for _, op := range plan.Restored {
		uids[op.ID] = op.UID
	}
	for i := range schema {
		if schema[i].UID == "" {
			schema[i].UID = uids[schema[i].ID]
		}
	}
	u := Risks(m.Version, schema, declared)
	plan.Upgrade = u
	// A refused serializer fails the restore whatever the flags.
	for _, r := range u.Risks {
		if r.Refused {
			what := "its key"
			if r.State != "" {
				what = fmt.Sprintf("state %q", r.State)
			}
			plan.Failures = append(plan.Failures, PlanFailure{ID: r.OperatorID, UID: r.UID, Reason: what + ": " + r.Detail})
			plan.WithoutAllowNonRestored, plan.WithAllowNonRestored, plan.ExitCode = OutcomeFails, OutcomeFails, ExitResumeFails
		}
	}
	return u
}

// Risks is the analysis over schemas already read: Kryo and Java
// serialization anywhere in a state's types, TTL, and — for operators
// whose new state types are declared (by operator ID) — the key, kind and
// serializer changes Flink refuses. version is the snapshot's format
// version.
func Risks(version int, schema []state.OperatorSchema, declared map[string]*DeclaredSchema) *UpgradeRisks {
	u := &UpgradeRisks{WrittenBy: snapshot.WrittenBy(version), Risks: []StateRisk{}, Unread: []SchemaGap{}, TypesChecked: len(declared) > 0}
	flink1 := version <= snapshot.Version4
	for _, op := range schema {
		add := func(r StateRisk) {
			r.OperatorID, r.UID = op.ID, op.UID
			u.Risks = append(u.Risks, r)
		}
		for _, e := range op.Errors {
			u.Unread = append(u.Unread, SchemaGap{OperatorID: op.ID, UID: op.UID, Reason: e, Engine: strings.Contains(e, state.ErrEngineState.Error())})
		}
		if p := op.Keyed; p != nil {
			serializerRisks(add, "key", "", "", p.Key, flink1)
			for _, s := range p.States {
				for _, role := range []string{state.RoleNamespace, state.RoleValue} {
					serializerRisks(add, "keyed", s.Name, s.Kind(), s.Serializers[role], flink1)
				}
				if s.TTL() {
					add(StateRisk{State: s.Name, Scope: "keyed", Kind: s.Kind(), Risk: RiskTTL, Type: typeString(s.Serializers[state.RoleValue]),
						Detail: "restore it with the same TTL setting: Flink refuses to turn TTL on or off for existing state (StateMigrationException)"})
				}
			}
		}
		if p := op.Operator; p != nil {
			for _, s := range p.States {
				serializerRisks(add, "operator", s.Name, s.Kind(), s.Serializers[state.RoleValue], flink1)
			}
			for _, s := range p.Broadcast {
				for _, role := range []string{state.RoleKey, state.RoleValue} {
					serializerRisks(add, "broadcast", s.Name, s.Kind(), s.Serializers[role], flink1)
				}
			}
		}
		if d := declared[op.ID]; d != nil && op.Keyed != nil {
			compareDeclared(add, op.Keyed, d)
		}
	}
	if u.Count(RiskKryo) > 0 {
		u.KryoGuidance = KryoGuidance
	}
	sort.SliceStable(u.Risks, func(i, j int) bool { return u.Risks[i].Refused && !u.Risks[j].Refused })
	return u
}

// serializerRisks lists Kryo and Java serialization in t (and the types
// nested in it), once per class.
func serializerRisks(add func(StateRisk), scope, name, kind string, t *state.Type, flink1 bool) {
	seen := map[string]bool{}
	walkType(t, func(x *state.Type) {
		var r StateRisk
		switch x.Kind {
		case state.KindKryo:
			r = StateRisk{Risk: RiskKryo, Detail: "Kryo 5 bytes: Flink 2.x reads them, but Kryo has no schema evolution: a changed class breaks the restore"}
			if flink1 {
				r.Detail = "Kryo 2 bytes (written by Flink 1.x): Flink 2.x (Kryo 5) cannot read them"
			}
		case state.KindJava:
			r = StateRisk{Risk: RiskJava, Detail: "a changed class (or serialVersionUID) makes the state unreadable"}
		default:
			return
		}
		r.Type = x.String()
		if seen[string(r.Risk)+r.Type] {
			return
		}
		seen[string(r.Risk)+r.Type] = true
		r.State, r.Scope, r.Kind = name, scope, kind
		add(r)
	})
}

func walkType(t *state.Type, fn func(*state.Type)) {
	if t == nil {
		return
	}
	fn(t)
	for _, c := range []*state.Type{t.Elem, t.Key, t.Value, t.Namespace} {
		walkType(c, fn)
	}
	for _, f := range t.Fields {
		walkType(f.Type, fn)
	}
}

func typeString(t *state.Type) string {
	if t == nil {
		return "?"
	}
	return t.String()
}

// compareDeclared applies Flink's restore checks to the states the new
// job registers: the key serializer must be compatible, a state keeps
// its kind (else "Incompatible key/value state types"), its namespace and
// value serializers must not be incompatible (else StateMigrationException).
// States only in the snapshot are kept untouched; states only in the new
// job start empty.
func compareDeclared(add func(StateRisk), p *state.KeyedProxy, d *DeclaredSchema) {
	if d.Key != nil && p.Key != nil {
		if why := incompatible(p.Key, d.Key); why != "" {
			add(StateRisk{Scope: "key", Risk: RiskIncompatible, Type: p.Key.String(), Refused: true,
				Detail: fmt.Sprintf("the new job's key is %s: Flink refuses the restore (StateMigrationException: the new key serializer is incompatible; %s)", d.Key, why)})
		}
	}
	byName := map[string]*state.Meta{}
	for _, s := range p.States {
		byName[s.Name] = s
	}
	for _, ds := range d.States {
		s := byName[ds.Name]
		if s == nil {
			continue
		}
		if k := s.Kind(); ds.Kind != "" && k != "" && k != ds.Kind {
			add(StateRisk{State: s.Name, Scope: "keyed", Kind: k, Risk: RiskKindChanged, Type: typeString(s.Serializers[state.RoleValue]), Refused: true,
				Detail: fmt.Sprintf("the new job registers it as %s: Flink refuses the restore (Incompatible key/value state types. Was [%s], registered with [%s])", ds.Kind, k, ds.Kind)})
			continue
		}
		for _, c := range []struct {
			role, what string
			want       *state.Type
		}{{state.RoleNamespace, "namespace", ds.Namespace}, {state.RoleValue, "value", ds.Value}} {
			old := s.Serializers[c.role]
			if old == nil || c.want == nil {
				continue
			}
			if why := incompatible(old, c.want); why != "" {
				add(StateRisk{State: s.Name, Scope: "keyed", Kind: s.Kind(), Risk: RiskIncompatible, Type: old.String(), Refused: true,
					Detail: fmt.Sprintf("the new job's %s is %s: Flink refuses the restore (StateMigrationException: the new %s serializer is incompatible; %s)", c.what, c.want, c.what, why)})
			}
		}
	}
}

// incompatible says why Flink's compatibility check between the snapshot's
// serializer (old) and the new one fails; "" when it passes, as is or after
// a migration (a POJO or Avro type of the same class evolves). Serializers
// of different kinds never pass; composites pass when their nested ones do.
func incompatible(old, new *state.Type) string {
	if old == nil || new == nil {
		return ""
	}
	if (old.Kind == state.KindTTL) != (new.Kind == state.KindTTL) {
		if old.Kind == state.KindTTL {
			return "TTL turned off"
		}
		return "TTL turned on"
	}
	if old.Kind != new.Kind {
		return fmt.Sprintf("%s was %s", new, old)
	}
	switch old.Kind {
	case state.KindPojo, state.KindEnum, state.KindKryo, state.KindAvro, state.KindGenericArray:
		if old.Class != new.Class {
			return fmt.Sprintf("class %s was %s", new.Class, old.Class)
		}
	case state.KindPrimArray:
		if old.Prim != new.Prim {
			return fmt.Sprintf("%s was %s", new, old)
		}
	case state.KindTuple, state.KindRow:
		if len(old.Fields) != len(new.Fields) {
			return fmt.Sprintf("%s was %s", new, old)
		}
		for i := range old.Fields {
			if why := incompatible(old.Fields[i].Type, new.Fields[i].Type); why != "" {
				return why
			}
		}
	}
	for _, c := range [][2]*state.Type{{old.Elem, new.Elem}, {old.Key, new.Key}, {old.Value, new.Value}, {old.Namespace, new.Namespace}} {
		if why := incompatible(c[0], c[1]); why != "" {
			return why
		}
	}
	return ""
}
