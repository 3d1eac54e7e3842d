"""Notifications: every confirmation, reminder and notice is a row with a due time.

Rows are written by the booking use-cases in the transaction of the change that causes
them (`planning`), moved when an appointment moves and cancelled when it is cancelled.
The dispatcher claims due rows and sends each through a transport (`transports/`), at
most once per idempotency key, with a delivery log. See docs/notifications.md.
"""
