package inspector

import "fmt"

// MappingEntries are the uid-mapping entries (see NewUIDMapping) that name
// a target's operators: an operator's uid, or, for an operator without uid
// whose ID a job graph computed, "(its name)=hash:<id>" — "(no uid)" when it
// has no name either. An operator known by neither is left out: nothing
// names it. The CLI's --job and the TUI's targets label operators alike.
func (t Target) MappingEntries() []string {
	var out []string
	for _, o := range t.Operators {
		switch {
		case o.UID != "":
			out = append(out, o.UID)
		case !o.ID.IsZero():
			label := "(no uid)"
			if o.Name != "" {
				label = "(" + o.Name + ")"
			}
			out = append(out, label+"="+HashPrefix+o.ID.String())
		}
	}
	return out
}

// Mapping names operator IDs after the target's operators (MappingEntries).
func (t Target) Mapping() (*UIDMapping, error) {
	m, err := NewUIDMapping(t.MappingEntries())
	if err != nil {
		return nil, fmt.Errorf("%s: %w", t.Source, err)
	}
	return m, nil
}
