"""Pure scheduling domain: standard library and zoneinfo only, no I/O."""
