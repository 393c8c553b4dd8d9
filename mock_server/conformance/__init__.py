"""Client conformance: rules as data, one small check per rule, and the report."""
