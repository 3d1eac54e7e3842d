"""The event bus: how visit events reach every server process (port + adapters)."""
