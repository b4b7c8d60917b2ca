package snapshot

import "fmt"

// WrittenBy names the earliest Flink release that writes a format version,
// as "Flink 1.11+". It deliberately names no upper bound: a release keeps
// writing an older version in places (Flink 1.16 savepoints of format v3
// exist), so a range would state as fact what is only a default.
func WrittenBy(version int) string {
	switch version {
	case Version2:
		return "Flink 1.3+"
	case Version3:
		return "Flink 1.11+"
	case Version4:
		return "Flink 1.16+"
	case Version5:
		return "Flink 2.0+"
	case Version6:
		return "Flink 2.1+"
	case Version7:
		return "Flink master after 2.3"
	}
	return "an unknown writer"
}

// FormatLabel is the one label of a format version everywhere ckpt shows
// it: "v3 (written by Flink 1.11+)".
func FormatLabel(version int) string {
	return fmt.Sprintf("v%d (written by %s)", version, WrittenBy(version))
}
