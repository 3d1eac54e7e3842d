"""Bookings use-cases: businesses, services, staff, customers, questions (and later appointments)."""
