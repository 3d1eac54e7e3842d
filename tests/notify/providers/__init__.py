"""Local stand-ins for the SMS providers' clouds: each a small HTTP server on loopback
that implements the provider's documented request and response, errors included."""
