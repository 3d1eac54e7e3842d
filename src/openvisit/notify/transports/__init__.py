"""Transports deliver rendered messages: e-mail over SMTP, SMS through a provider, or the
local outbox. `base` states the contract every one of them keeps."""
