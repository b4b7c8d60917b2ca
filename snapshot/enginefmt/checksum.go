package enginefmt

import "hash/crc32"

// Castagnoli is the CRC-32C table of every checksum the engine records.
var Castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Checksum is the CRC-32C (Castagnoli) of b.
func Checksum(b []byte) uint32 { return crc32.Checksum(b, Castagnoli) }

// UpdateChecksum continues Checksum over more bytes.
func UpdateChecksum(crc uint32, b []byte) uint32 { return crc32.Update(crc, Castagnoli, b) }
