"""Bookings use-cases: businesses, services, staff, customers and custom questions."""
