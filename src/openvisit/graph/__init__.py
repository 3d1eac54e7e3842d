"""The REST API in Microsoft Graph's Bookings shape."""
