package enginefmt

import (
	"encoding/binary"

	"github.com/cespare/xxhash/v2"

	"github.com/ckpt-dev/ckpt/snapshot/keygroup"
)

// MetaKeyGroup is the reserved key-group prefix of the registry.
const MetaKeyGroup = 0xFFFF

// Registry state ids under MetaKeyGroup.
const (
	registryID = 0 // name → state id (u16 big-endian)
	schemaID   = 1 // name → Schema
)

// KeyHash is the engine's hash of a key (Go has no Java hashCode; only
// the key-group formulas on top of it follow Flink).
func KeyHash(key string) int32 { return int32(uint32(xxhash.Sum64String(key))) }

// KeyGroupOf is the key group of key for maxParallelism.
func KeyGroupOf(key string, maxParallelism int) int {
	return keygroup.ForHash(KeyHash(key), maxParallelism)
}

// AppendKey appends the stored key of key in state id of key group kg.
func AppendKey(dst []byte, kg int, id uint16, key string) []byte {
	dst = binary.BigEndian.AppendUint16(dst, uint16(kg))
	dst = binary.BigEndian.AppendUint16(dst, id)
	return append(dst, key...)
}

// AppendMapPrefix appends the stored prefix of key's entries in map state
// id: the map key follows it.
func AppendMapPrefix(dst []byte, kg int, id uint16, key string) []byte {
	dst = binary.BigEndian.AppendUint16(dst, uint16(kg))
	dst = binary.BigEndian.AppendUint16(dst, id)
	dst = binary.AppendUvarint(dst, uint64(len(key)))
	return append(dst, key...)
}

// SplitMapKey splits the user part of a map state's stored key (after key
// group and state id) into the key and the map key.
func SplitMapKey(user []byte) (key, mapKey []byte, ok bool) {
	n, k := binary.Uvarint(user)
	if k <= 0 || uint64(len(user)-k) < n {
		return nil, nil, false
	}
	return user[k : k+int(n)], user[k+int(n):], true
}

// SplitKey splits a stored key into key group, state id and user key; ok
// is false for a key shorter than its prefix.
func SplitKey(k []byte) (kg int, id uint16, user []byte, ok bool) {
	if len(k) < 4 {
		return 0, 0, nil, false
	}
	return int(binary.BigEndian.Uint16(k)), binary.BigEndian.Uint16(k[2:]), k[4:], true
}

// KeyGroupSpan is the stored-key span [lo, hi) of key group kg.
func KeyGroupSpan(kg int) (lo, hi []byte) {
	return binary.BigEndian.AppendUint16(nil, uint16(kg)), binary.BigEndian.AppendUint16(nil, uint16(kg+1))
}

// RegistryKey is the registry entry of state name (its value: the id,
// EncodeID).
func RegistryKey(name string) []byte { return append([]byte{0xFF, 0xFF, 0, registryID}, name...) }

// RegistrySpan is the stored-key span of the registry's name → id entries.
func RegistrySpan() (lo, hi []byte) {
	return []byte{0xFF, 0xFF, 0, registryID}, []byte{0xFF, 0xFF, 0, registryID + 1}
}

// RegistryName is the state name of a registry key (from RegistryKey or
// SchemaKey).
func RegistryName(k []byte) string { return string(k[4:]) }

// EncodeID is a registry entry's value.
func EncodeID(id uint16) []byte { return binary.BigEndian.AppendUint16(nil, id) }

// DecodeID reads a registry entry's value; ok is false unless it is 2
// bytes.
func DecodeID(v []byte) (uint16, bool) {
	if len(v) != 2 {
		return 0, false
	}
	return binary.BigEndian.Uint16(v), true
}

// SchemaKey is the schema entry of state name (its value: Schema.Encode).
func SchemaKey(name string) []byte { return append([]byte{0xFF, 0xFF, 0, schemaID}, name...) }

// SchemaSpan is the stored-key span of the schema entries.
func SchemaSpan() (lo, hi []byte) {
	return []byte{0xFF, 0xFF, 0, schemaID}, []byte{0xFF, 0xFF, 0, schemaID + 1}
}

// PrefixEnd is the smallest key above every key starting with p (nil:
// none).
func PrefixEnd(p []byte) []byte {
	end := append([]byte(nil), p...)
	for i := len(end) - 1; i >= 0; i-- {
		end[i]++
		if end[i] != 0 {
			return end[:i+1]
		}
	}
	return nil
}
