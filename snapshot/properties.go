package snapshot

import (
	"fmt"
	"strings"
)

// Kind says whether a snapshot is a checkpoint or a savepoint.
type Kind string

const (
	KindUnknown    Kind = ""
	KindCheckpoint Kind = "checkpoint"
	KindSavepoint  Kind = "savepoint"
)

// SavepointFormat is a savepoint's format (Flink's SavepointFormatType).
type SavepointFormat string

const (
	FormatNone      SavepointFormat = ""          // checkpoints
	FormatCanonical SavepointFormat = "CANONICAL" // backend-independent
	FormatNative    SavepointFormat = "NATIVE"    // the backend's own files
)

// PostCheckpointAction is what a savepoint did to the job afterwards
// (Flink's SavepointType.PostCheckpointAction).
type PostCheckpointAction string

const (
	ActionNone      PostCheckpointAction = "NONE"      // plain savepoint
	ActionSuspend   PostCheckpointAction = "SUSPEND"   // stop-with-savepoint
	ActionTerminate PostCheckpointAction = "TERMINATE" // stop-with-savepoint --drain
)

// SharingFilesStrategy is how a checkpoint shares files with others (Flink's
// SnapshotType.SharingFilesStrategy): FORWARD_BACKWARD for regular
// checkpoints, FORWARD for full checkpoints, NO_SHARING for savepoints.
type SharingFilesStrategy string

const (
	ShareForwardBackward SharingFilesStrategy = "FORWARD_BACKWARD"
	ShareForward         SharingFilesStrategy = "FORWARD"
	ShareNone            SharingFilesStrategy = "NO_SHARING"
)

// Properties is the parsed V4+ trailer: Flink's CheckpointProperties.
type Properties struct {
	Kind Kind
	// TypeName is the snapshot type's display name: "Checkpoint",
	// "Full Checkpoint", "Savepoint", "Suspend Savepoint", "Terminate Savepoint".
	TypeName string
	// Savepoints only.
	Format               SavepointFormat
	PostCheckpointAction PostCheckpointAction
	// Checkpoints only.
	SharingFilesStrategy SharingFilesStrategy

	Forced           bool
	DiscardSubsumed  bool
	DiscardFinished  bool
	DiscardCancelled bool
	DiscardFailed    bool
	DiscardSuspended bool
	Unclaimed        bool
}

// String is a short label: "checkpoint", "savepoint (CANONICAL)", ...
func (p Properties) String() string {
	if p.Kind == KindSavepoint {
		s := "savepoint (" + string(p.Format) + ")"
		if p.PostCheckpointAction != "" && p.PostCheckpointAction != ActionNone {
			s += ", " + strings.ToLower(string(p.PostCheckpointAction))
		}
		return s
	}
	if p.TypeName != "" && p.TypeName != "Checkpoint" {
		return strings.ToLower(p.TypeName)
	}
	return string(p.Kind)
}

// CheckpointProperties are the properties Flink writes for a periodic
// checkpoint retained on cancellation (externalized, RETAIN_ON_CANCELLATION):
// discarded when subsumed or when the job finishes, kept on cancel, failure
// and suspension.
func CheckpointProperties() Properties {
	return Properties{
		Kind: KindCheckpoint, TypeName: "Checkpoint", SharingFilesStrategy: ShareForwardBackward,
		DiscardSubsumed: true, DiscardFinished: true,
	}
}

// SavepointProperties are the properties Flink writes for a savepoint of the
// given format (never discarded automatically, forced).
func SavepointProperties(format SavepointFormat, action PostCheckpointAction) Properties {
	if format == FormatNone {
		format = FormatCanonical
	}
	if action == "" {
		action = ActionNone
	}
	name := "Savepoint"
	switch action {
	case ActionSuspend:
		name = "Suspend Savepoint"
	case ActionTerminate:
		name = "Terminate Savepoint"
	}
	return Properties{Kind: KindSavepoint, TypeName: name, Format: format, PostCheckpointAction: action, Forced: true}
}

// Java class names and serialVersionUIDs of the trailer's classes. They are
// the same in Flink 1.16 through 2.3 (checked with serialver against the
// released jars), which is why one encoding serves every V4+ writer.
const (
	jClassProperties     = "org.apache.flink.runtime.checkpoint.CheckpointProperties"
	jClassSnapshotType   = "org.apache.flink.runtime.checkpoint.SnapshotType"
	jClassCheckpointType = "org.apache.flink.runtime.checkpoint.CheckpointType"
	jClassSavepointType  = "org.apache.flink.runtime.checkpoint.SavepointType"
	jClassSharing        = "org.apache.flink.runtime.checkpoint.SnapshotType$SharingFilesStrategy"
	jClassFormat         = "org.apache.flink.core.execution.SavepointFormatType"
	jClassPostAction     = "org.apache.flink.runtime.checkpoint.SavepointType$PostCheckpointAction"

	suidProperties     int64 = 2
	suidCheckpointType int64 = -2963844630364414662
	suidSavepointType  int64 = -6879297871714708296
)

// ParseProperties decodes a trailer (a Java serialization stream of one
// CheckpointProperties object).
func ParseProperties(trailer []byte) (Properties, error) {
	root, err := parseJavaObject(trailer)
	if err != nil {
		return Properties{}, fmt.Errorf("checkpoint properties: %w", err)
	}
	if root.class != jClassProperties {
		return Properties{}, fmt.Errorf("checkpoint properties: trailer holds a %s, want %s", root.class, jClassProperties)
	}
	var p Properties
	bools := []struct {
		name string
		dst  *bool
	}{
		{"forced", &p.Forced}, {"discardSubsumed", &p.DiscardSubsumed}, {"discardFinished", &p.DiscardFinished},
		{"discardCancelled", &p.DiscardCancelled}, {"discardFailed", &p.DiscardFailed},
		{"discardSuspended", &p.DiscardSuspended}, {"unclaimed", &p.Unclaimed},
	}
	for _, b := range bools {
		v, ok := root.fields[b.name].(bool)
		if !ok {
			return Properties{}, fmt.Errorf("checkpoint properties: field %s missing or not a boolean", b.name)
		}
		*b.dst = v
	}
	ct, ok := root.fields["checkpointType"].(*javaObject)
	if !ok {
		return Properties{}, fmt.Errorf("checkpoint properties: field checkpointType missing or not an object")
	}
	p.TypeName, _ = ct.fields["name"].(string)
	switch ct.class {
	case jClassCheckpointType:
		p.Kind = KindCheckpoint
		if e, ok := ct.fields["sharingFilesStrategy"].(javaEnum); ok {
			p.SharingFilesStrategy = SharingFilesStrategy(e.constant)
		}
	case jClassSavepointType:
		p.Kind = KindSavepoint
		if e, ok := ct.fields["formatType"].(javaEnum); ok {
			p.Format = SavepointFormat(e.constant)
		}
		if e, ok := ct.fields["postCheckpointAction"].(javaEnum); ok {
			p.PostCheckpointAction = PostCheckpointAction(e.constant)
		}
	default:
		return Properties{}, fmt.Errorf("checkpoint properties: unknown snapshot type class %s", ct.class)
	}
	return p, nil
}

// Encode writes p the way Flink's MetadataV4Serializer does
// (ObjectOutputStream.writeObject of a CheckpointProperties), so real Flink
// can read it back.
func (p Properties) Encode() ([]byte, error) {
	w := newJavaWriter()
	props := &javaClass{
		name: jClassProperties, suid: suidProperties, flags: scSerializable,
		fields: []javaField{ // Java orders primitives first, then by name
			{'Z', "discardCancelled", ""}, {'Z', "discardFailed", ""}, {'Z', "discardFinished", ""},
			{'Z', "discardSubsumed", ""}, {'Z', "discardSuspended", ""}, {'Z', "forced", ""},
			{'Z', "unclaimed", ""},
			{'L', "checkpointType", "L" + strings.ReplaceAll(jClassSnapshotType, ".", "/") + ";"},
		},
	}
	w.beginObject(props)
	for _, b := range []bool{p.DiscardCancelled, p.DiscardFailed, p.DiscardFinished, p.DiscardSubsumed,
		p.DiscardSuspended, p.Forced, p.Unclaimed} {
		w.boolean(b)
	}
	name := p.TypeName
	switch p.Kind {
	case KindCheckpoint:
		if name == "" {
			name = "Checkpoint"
		}
		sharing := p.SharingFilesStrategy
		if sharing == "" {
			sharing = ShareForwardBackward
		}
		w.beginObject(&javaClass{
			name: jClassCheckpointType, suid: suidCheckpointType, flags: scSerializable,
			fields: []javaField{
				{'L', "name", "Ljava/lang/String;"},
				{'L', "sharingFilesStrategy", "L" + strings.ReplaceAll(jClassSharing, ".", "/") + ";"},
			},
		})
		w.string(name)
		w.enum(jClassSharing, string(sharing))
	case KindSavepoint:
		format, action := p.Format, p.PostCheckpointAction
		if format == "" {
			format = FormatCanonical
		}
		if action == "" {
			action = ActionNone
		}
		if name == "" {
			name = "Savepoint"
		}
		w.beginObject(&javaClass{
			name: jClassSavepointType, suid: suidSavepointType, flags: scSerializable,
			fields: []javaField{
				{'L', "formatType", "L" + strings.ReplaceAll(jClassFormat, ".", "/") + ";"},
				{'L', "name", "Ljava/lang/String;"},
				{'L', "postCheckpointAction", "L" + strings.ReplaceAll(jClassPostAction, ".", "/") + ";"},
			},
		})
		w.enum(jClassFormat, string(format))
		w.string(name)
		w.enum(jClassPostAction, string(action))
	default:
		return nil, fmt.Errorf("checkpoint properties: kind %q is neither checkpoint nor savepoint", p.Kind)
	}
	return w.bytes(), nil
}
