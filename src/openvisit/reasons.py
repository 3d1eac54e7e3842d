"""Every reason a request is refused: one table of HTTP status, Graph code and message.

The envelope's top-level `code` is Graph's own (`badRequest`, `itemNotFound`, ...), which
msgraph-sdk and clients written against Microsoft Graph branch on. `innerError.code`
carries the reason named here: stable, documented in docs/errors.md (a test keeps the two
equal), so a client can tell a taken slot from a lead-time refusal without parsing the
message, and the message can improve without breaking anyone. Raise sites name a reason
and its parameters; the words live here only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

# Graph's code for each status, from its errors page.
GRAPH_CODES: Final[Mapping[int, str]] = MappingProxyType(
    {
        400: "badRequest",
        401: "InvalidAuthenticationToken",
        403: "accessDenied",
        404: "itemNotFound",
        405: "methodNotAllowed",
        406: "notAcceptable",
        409: "conflict",
        411: "lengthRequired",
        412: "preconditionFailed",
        413: "requestEntityTooLarge",
        415: "unsupportedMediaType",
        424: "failedDependency",
        429: "activityLimitReached",
        500: "generalException",
        501: "notImplemented",
        503: "serviceNotAvailable",
    }
)


@dataclass(frozen=True)
class Reason:
    status: int
    template: str  # str.format fields are the raise site's keyword parameters

    @property
    def code(self) -> str:
        return GRAPH_CODES[self.status]


_SLOT = "The appointment cannot be booked: {detail}."

REASONS: Final[Mapping[str, Reason]] = MappingProxyType(
    {
        # Request shape: body, properties, query options.
        "invalidJson": Reason(400, "The request body is not valid JSON."),
        "bodyRequired": Reason(400, "A request body is required."),
        "invalidBody": Reason(400, "The request body is invalid: {detail}"),
        "propertyRequired": Reason(400, "The property '{property}' is required."),
        "propertyNotNull": Reason(400, "The property '{property}' cannot be null."),
        "invalidProperty": Reason(400, "Invalid value for '{property}': {detail}"),
        "nulCharacter": Reason(400, "{subject} must not contain the NUL character (U+0000)."),
        "queryParameterRequired": Reason(400, "The query parameter '{name}' is required."),
        "invalidDateTime": Reason(
            400,
            "Invalid value for '{name}': '{text}' must be an ISO 8601 date and time with Z or "
            "an offset, such as 2026-05-01T00:00:00Z.",
        ),
        "dateOutOfRange": Reason(
            400, "Invalid value for '{name}': must lie between the years {first} and {last}."
        ),
        "endBeforeStart": Reason(400, "Invalid value for '{name}': it must be after {start}."),
        "rangeTooLong": Reason(
            400, "Invalid value for '{name}': {what} spans at most {days} days."
        ),
        "invalidTimeZone": Reason(400, "Invalid value for '{name}': {detail}"),
        "invalidIdempotencyKey": Reason(
            400, "The {header} header must hold 1 to {limit} characters."
        ),
        "bodyTooLarge": Reason(413, "The request body is larger than {limit} bytes."),
        # OData query options.
        "queryOptionTooLarge": Reason(400, "{option} must be at most {limit}"),
        "notANonNegativeInteger": Reason(
            400, "{option} must be a non-negative integer, not '{text}'"
        ),
        "invalidCount": Reason(400, "$count must be true or false"),
        "unsupportedQueryOption": Reason(400, "{resource} support {options} only."),
        "invalidFilter": Reason(400, "$filter: {detail}"),
        "filterTooLong": Reason(400, "$filter is longer than {limit} characters"),
        "filterTooDeep": Reason(
            400, "$filter nests parentheses or 'not' deeper than {limit} levels"
        ),
        "invalidOrderBy": Reason(400, "$orderby item '{item}' must be 'property [asc|desc]'"),
        "unknownProperty": Reason(
            400,
            "Property '{property}' cannot be used in $filter or $orderby; use one of: {allowed}",
        ),
        # JSON batching ($batch).
        "nestedBatch": Reason(400, "A batch cannot contain another $batch request."),
        "failedDependency": Reason(
            424,
            "Request '{item}' was not run: it depends on request '{needed}', which "
            "answered {status}.",
        ),
        # Paths and methods.
        "pathNotFound": Reason(404, "Resource not found for the segment '{path}'."),
        "methodNotAllowed": Reason(405, "Method Not Allowed"),
        # Any other refusal of the HTTP framework: its own status and words.
        "requestRefused": Reason(400, "{detail}"),
        # Records that do not exist (or that the caller may not see).
        "businessNotFound": Reason(404, "The booking business '{business}' does not exist."),
        "recordNotFound": Reason(404, "The {kind} '{record}' does not exist in '{business}'."),
        "staffNotFound": Reason(404, "The staff member '{staff}' does not exist in this business."),
        "currencyNotFound": Reason(404, "The currency '{currency}' does not exist."),
        "userNotFound": Reason(404, "no staff user with e-mail {email}"),
        "activeUserNotFound": Reason(404, "no active staff user {user}"),
        "calendarFeedNotFound": Reason(
            404, "The staff member '{staff}' has no calendar feed to revoke."
        ),
        "sessionNotFound": Reason(404, "no session {session}"),
        "tokenNotFound": Reason(404, "no token {token}"),
        "noUserForToken": Reason(
            404, "This token acts for no user and the server has no administrator."
        ),
        # Online meetings (meetings/).
        "meetingNotFound": Reason(404, "The online meeting '{meeting}' does not exist."),
        "meetingUserNotFound": Reason(404, "The user '{user}' does not exist."),
        "attendanceReportNotFound": Reason(
            404, "The attendance report '{report}' does not exist for this online meeting."
        ),
        "virtualAppointmentNotFound": Reason(
            404, "The online meeting '{meeting}' has no virtualAppointment."
        ),
        "otherUsersMeetings": Reason(
            403,
            "A token acting for a user reaches that user's own online meetings only, not "
            "those of '{user}'.",
        ),
        "meetingOfAppointment": Reason(
            409,
            "The online meeting '{meeting}' belongs to a booking appointment: {what} "
            "through the appointment.",
        ),
        "externalIdTaken": Reason(
            409,
            "An online meeting with externalId '{external_id}' exists already; use "
            "createOrGet to get it.",
        ),
        "meetingCancelled": Reason(409, "The online meeting '{meeting}' is cancelled."),
        "meetingFilterUnsupported": Reason(
            400, "$filter on onlineMeetings supports only JoinWebUrl eq '<url>'."
        ),
        "etagMismatch": Reason(
            412, "The resource changed since it was read (If-Match does not match its ETag)."
        ),
        "noSmsRecipient": Reason(
            400,
            "Invalid value for 'attendees.{index}.phoneNumber': '{number}' is not a mobile "
            "phone number that can receive a text.",
        ),
        # Booking rules.
        "unknownService": Reason(
            400, "Invalid value for 'serviceId': no service '{service}' in this business."
        ),
        "serviceGone": Reason(400, "The appointment's service no longer exists; send a serviceId."),
        "unknownStaff": Reason(
            400, "Invalid value for 'staffMemberIds': no staff member '{staff}' in this business."
        ),
        "staffNotOnService": Reason(
            400,
            "Invalid value for 'staffMemberIds': '{staff}' does not provide this service.",
        ),
        "unknownCustomer": Reason(
            400,
            "Invalid value for 'customers.{index}.customerId': no customer '{customer}' in "
            "this business.",
        ),
        "unknownQuestion": Reason(
            400,
            "Invalid value for 'customQuestions': no custom question '{question}' in this "
            "business.",
        ),
        "answerRequired": Reason(
            400,
            "Invalid value for 'customers.{index}.customQuestionAnswers': the required "
            "question '{question}' is not answered.",
        ),
        "answerOptionsRequired": Reason(
            400,
            "Invalid value for 'answerOptions': a radioButton question needs at least one "
            "answer option.",
        ),
        "tooManyCustomers": Reason(
            400,
            "Invalid value for 'customers': the service seats at most {capacity} customers, "
            "not {count}.",
        ),
        "appointmentTooLong": Reason(
            400, "Invalid value for 'endDateTime': an appointment lasts at most a day."
        ),
        "noStaffForService": Reason(409, "No staff member delivers this service."),
        "leadTimeNotMet": Reason(409, _SLOT),
        "beyondMaximumAdvance": Reason(409, _SLOT),
        "outsideWorkingHours": Reason(409, _SLOT),
        "notEnoughSeats": Reason(409, _SLOT),
        "slotTaken": Reason(409, _SLOT),
        "staffUnavailable": Reason(409, _SLOT),
        "changeCutoffPassed": Reason(
            409, "The appointment can no longer be changed or cancelled {closed}."
        ),
        "appointmentCancelled": Reason(409, "The appointment '{appointment}' is cancelled."),
        "appointmentWasCancelled": Reason(404, "The appointment '{appointment}' was cancelled."),
        "manageLinkInvalid": Reason(404, "This link is not valid."),
        "manageLinkExpired": Reason(404, "This link has expired."),
        # The booking pages and manage links (web/consumer).
        "bookingPageNotFound": Reason(
            404, "The booking page '{business}' does not exist or is not published."
        ),
        "serviceNotOffered": Reason(404, "The service '{service}' cannot be booked on this page."),
        "staffNotOffered": Reason(
            400, "The staff member '{staff}' cannot be chosen for this service on this page."
        ),
        "customerManageNotAllowed": Reason(
            403, "This appointment cannot be changed or cancelled online; contact the business."
        ),
        "changedMeanwhile": Reason(
            409, "The appointment was changed by someone else; read it again."
        ),
        "idempotencyKeyReused": Reason(
            409, "This Idempotency-Key was already used with a different request."
        ),
        # Documents before the visit (bookings/documents.py).
        "documentNotFound": Reason(404, "The document '{document}' does not exist here."),
        "documentIsLink": Reason(
            404, "The document '{document}' is a link and has no content; open its webUrl."
        ),
        "documentTooLarge": Reason(413, "The file is larger than {limit}, the most allowed."),
        "documentEmpty": Reason(400, "The file is empty."),
        "documentTypeNotAllowed": Reason(
            415,
            "The file is not an allowed type ({allowed}); its content decides, not its name.",
        ),
        "documentFileRequired": Reason(
            400, "Send the file as a multipart/form-data part named 'file'."
        ),
        "documentBodyUnsupported": Reason(
            415,
            "Send multipart/form-data with a 'file' part, or JSON with displayName and webUrl.",
        ),
        "documentLimitReached": Reason(
            409, "The {owner} already holds {count} documents, the most it may hold."
        ),
        "documentTotalTooLarge": Reason(
            409, "The appointment's documents would take more than {limit} together."
        ),
        # Who may do what.
        "tokenMissing": Reason(401, "Access token is empty; send 'Authorization: Bearer <token>'."),
        "tokenInvalid": Reason(401, "Access token is invalid, expired or revoked."),
        "tokenUserDeactivated": Reason(401, "Access token is invalid: its user is deactivated."),
        "wrongCredentials": Reason(401, "E-mail or password is wrong."),
        "scopeMissing": Reason(
            403, "The token lacks the scope this operation needs: {scope} (or a higher one)."
        ),
        "administratorOnly": Reason(403, "Only a server administrator may {operation}."),
        "roleNotAllowed": Reason(403, "The role {role} in this business may not {operation}."),
        "ownStaffOnly": Reason(403, "The role {role} may change only their own staff member."),
        "ownScheduleOnly": Reason(
            403, "The role {role} may change only their own schedule, not {fields}."
        ),
        "ownCalendarFeedOnly": Reason(
            403, "The role {role} may manage only their own calendar feed."
        ),
        "ownCalendarOnly": Reason(
            403, "This role books and moves appointments on its own calendar only."
        ),
        "overrideNotAllowed": Reason(
            403,
            "Only an administrator or scheduler (or an application token with "
            "Bookings.Manage.All) may use '{override}'.",
        ),
        "metricsAddressDenied": Reason(403, "This address may not read the metrics."),
        "metricsTokenMissing": Reason(
            401, "Send the metrics token as 'Authorization: Bearer <OPENVISIT_METRICS_TOKEN>'."
        ),
        # Accounts (command line and sign-in).
        "invalidEmail": Reason(400, "{detail}"),
        "invalidPassword": Reason(400, "password must have {shortest} to {longest} characters"),
        "invalidRole": Reason(400, "role must be one of {roles}"),
        "invalidScopes": Reason(400, "{detail}"),
        "tokenNameRequired": Reason(400, "a token needs a name"),
        "passwordMissing": Reason(400, "no password on standard input"),
        "passwordsDiffer": Reason(400, "the two passwords differ"),
        "userExists": Reason(409, "a staff user with e-mail {email} already exists"),
        # Refusals that pass with time (429 and 503 carry Retry-After).
        "signInThrottled": Reason(
            429, "Too many failed sign-ins. Try again after {until} UTC (in {wait})."
        ),
        "signInBusy": Reason(
            503, "The server is busy checking other sign-ins; try again in a moment."
        ),
        "pageRequestsThrottled": Reason(
            429, "Too many requests from this address; try again in {seconds} seconds."
        ),
        "bookingQueueFull": Reason(
            503, "Too many booking requests are in progress; retry after {seconds} second."
        ),
        "tooManyConnections": Reason(503, "The server has too many connections; retry shortly."),
        "calendarBusy": Reason(503, "The calendar is busy; retry the request in a moment."),
        "databaseBusy": Reason(503, "The database is busy; retry the request in a moment."),
        "storageFull": Reason(503, "The server's storage is full; nothing was saved. Retry later."),
        "storageReadOnly": Reason(
            503, "The server's database is read-only at the moment; nothing was saved. Retry later."
        ),
        "storageFailing": Reason(
            503,
            "The server could not read or write its database; nothing was saved. Retry later.",
        ),
        "databaseConnectionLost": Reason(
            503, "The connection to the database was lost; nothing was saved. Retry the request."
        ),
        "notReady": Reason(503, "The {component} is not reachable."),
        "eventBusDisconnected": Reason(
            503,
            "The event bus ({bus}) is disconnected: lobby, call and chat events do not reach "
            "the other server processes until it reconnects, which it does by itself.",
        ),
        "unexpectedError": Reason(500, "An unexpected error occurred; it has been logged."),
    }
)


def message(reason: str, **params: object) -> str:
    """The reason's message with its parameters filled in."""
    return REASONS[reason].template.format(**params)
