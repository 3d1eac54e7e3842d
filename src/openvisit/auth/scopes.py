"""Scopes named after Microsoft Graph permissions, and which ones imply which.

Graph lists a least-privileged permission per operation and the higher ones that also
grant it; `IMPLIED_BY` encodes that ladder once so endpoints name only the least one.
"""

from __future__ import annotations

from collections.abc import Iterable

BOOKINGS_READ = "Bookings.Read.All"
BOOKINGS_APPOINTMENT_READWRITE = "BookingsAppointment.ReadWrite.All"
BOOKINGS_READWRITE = "Bookings.ReadWrite.All"
BOOKINGS_MANAGE = "Bookings.Manage.All"
ONLINE_MEETINGS_READ = "OnlineMeetings.Read"
ONLINE_MEETINGS_READWRITE = "OnlineMeetings.ReadWrite"
# Application permissions: an app acting for any user (users/{id}/onlineMeetings).
ONLINE_MEETINGS_READ_ALL = "OnlineMeetings.Read.All"
ONLINE_MEETINGS_READWRITE_ALL = "OnlineMeetings.ReadWrite.All"
ONLINE_MEETING_ARTIFACT_READ_ALL = "OnlineMeetingArtifact.Read.All"
VIRTUAL_APPOINTMENT_READ = "VirtualAppointment.Read"
VIRTUAL_APPOINTMENT_READWRITE = "VirtualAppointment.ReadWrite"
VIRTUAL_APPOINTMENT_NOTIFICATION_SEND = "VirtualAppointmentNotification.Send"
USER_READ = "User.Read"

KNOWN_SCOPES = frozenset(
    {
        BOOKINGS_READ,
        BOOKINGS_APPOINTMENT_READWRITE,
        BOOKINGS_READWRITE,
        BOOKINGS_MANAGE,
        ONLINE_MEETINGS_READ,
        ONLINE_MEETINGS_READWRITE,
        ONLINE_MEETINGS_READ_ALL,
        ONLINE_MEETINGS_READWRITE_ALL,
        ONLINE_MEETING_ARTIFACT_READ_ALL,
        VIRTUAL_APPOINTMENT_READ,
        VIRTUAL_APPOINTMENT_READWRITE,
        VIRTUAL_APPOINTMENT_NOTIFICATION_SEND,
        USER_READ,
    }
)

# scope -> the scopes that also grant it (Graph's "higher privileged permissions").
IMPLIED_BY: dict[str, frozenset[str]] = {
    BOOKINGS_READ: frozenset({BOOKINGS_APPOINTMENT_READWRITE, BOOKINGS_READWRITE, BOOKINGS_MANAGE}),
    BOOKINGS_APPOINTMENT_READWRITE: frozenset({BOOKINGS_READWRITE, BOOKINGS_MANAGE}),
    BOOKINGS_READWRITE: frozenset({BOOKINGS_MANAGE}),
    BOOKINGS_MANAGE: frozenset(),
    ONLINE_MEETINGS_READ: frozenset(
        {ONLINE_MEETINGS_READWRITE, ONLINE_MEETINGS_READ_ALL, ONLINE_MEETINGS_READWRITE_ALL}
    ),
    ONLINE_MEETINGS_READWRITE: frozenset({ONLINE_MEETINGS_READWRITE_ALL}),
    ONLINE_MEETINGS_READ_ALL: frozenset({ONLINE_MEETINGS_READWRITE_ALL}),
    ONLINE_MEETINGS_READWRITE_ALL: frozenset(),
    ONLINE_MEETING_ARTIFACT_READ_ALL: frozenset(),
    # getVirtualAppointmentJoinWebUrl's ladder, as its docs page lists it.
    VIRTUAL_APPOINTMENT_READ: frozenset(
        {
            VIRTUAL_APPOINTMENT_READWRITE,
            ONLINE_MEETINGS_READ,
            ONLINE_MEETINGS_READWRITE,
            ONLINE_MEETINGS_READ_ALL,
            ONLINE_MEETINGS_READWRITE_ALL,
        }
    ),
    VIRTUAL_APPOINTMENT_READWRITE: frozenset(),
    VIRTUAL_APPOINTMENT_NOTIFICATION_SEND: frozenset(),
    USER_READ: frozenset(),
}


class UnknownScope(ValueError):
    pass


def parse_scopes(text: str) -> frozenset[str]:
    """Split a space- or comma-separated scope list and refuse names Graph does not have."""
    names = frozenset(part for part in text.replace(",", " ").split() if part)
    unknown = sorted(names - KNOWN_SCOPES)
    if unknown:
        raise UnknownScope(
            f"unknown scope(s): {', '.join(unknown)}; known: {', '.join(sorted(KNOWN_SCOPES))}"
        )
    if not names:
        raise UnknownScope("at least one scope is required")
    return names


def grants(held: Iterable[str], required: str) -> bool:
    """True when the held scopes include `required` or a scope that implies it."""
    held_set = set(held)
    return required in held_set or bool(held_set & IMPLIED_BY.get(required, frozenset()))
