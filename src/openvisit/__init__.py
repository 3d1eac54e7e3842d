"""OpenVisit: self-hosted virtual appointments with a Graph Bookings-compatible API."""

__version__ = "0.1.0"
