"""WebSocket transport of a visit: lobby, day board, call signaling and chat.

The contract is docs/realtime-protocol.md.
"""
