"""The pure core: lifecycle, clock, scenarios, profiles, planning, records, keys, errors."""
