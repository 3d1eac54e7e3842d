"""What hangs off one online meeting: the beta virtualAppointment, the SMS actions and
the attendance reports (served under /me and /users/{id}, see graph/online_meetings.py).

- virtualAppointment: PUT answers 201 when it made the resource and 200 when it replaced
  it, with an ETag; PATCH merges (200 with the resource; `If-Match` with another ETag
  answers 412); DELETE 204. Its `appointmentClientJoinWebUrl` is the consumer's link.
- sendVirtualAppointmentSms / ...ReminderSms: 202 Accepted, the texts queued as
  notification rows (meetings/sms.py).
- openvisit.notifications: those texts and their delivery log, as an appointment's.
- attendanceReports: one per sitting of the call; a report's `attendanceRecords` come
  with `$expand=attendanceRecords` or from their own collection.
"""

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Request, Response
from pydantic import Field

from openvisit.auth import access
from openvisit.bookings.delivery_log import list_meeting_notifications
from openvisit.graph.deps import RuntimeDep
from openvisit.graph.notifications import AppointmentNotificationCollection, notification_json
from openvisit.graph.online_meetings import (
    Acting,
    Reader,
    Writer,
    acting,
    entity_set,
    meeting_routes,
)
from openvisit.graph.responses import context_url, quote_key, stored, timestamp
from openvisit.graph.schemas.meeting import (
    VirtualAppointmentBody,
    VirtualAppointmentReminderSmsBody,
    VirtualAppointmentSmsBody,
)
from openvisit.graph.schemas.types import GraphModel
from openvisit.meetings import attendance, links, sms, virtual_appointments
from openvisit.meetings.views import AttendanceRecord, AttendanceReport, MeetingView
from openvisit.runtime import Runtime

router = APIRouter(tags=["onlineMeeting"])
Texter = Annotated[Acting, Depends(acting(access.MEETING_SMS))]
AttendanceReader = Annotated[Acting, Depends(acting(access.MEETING_ATTENDANCE_READ))]


class AttendanceIntervalOut(GraphModel):
    join_date_time: datetime
    leave_date_time: datetime | None
    duration_in_seconds: int


class AttendanceRecordOut(GraphModel):
    id: str
    email_address: str | None
    role: str = Field(description="Organizer, Presenter or Attendee.")
    total_attendance_in_seconds: int
    attendance_intervals: list[AttendanceIntervalOut]


class AttendanceReportOut(GraphModel):
    id: str
    total_participant_count: int
    meeting_start_date_time: datetime
    meeting_end_date_time: datetime | None


class AttendanceReportCollection(GraphModel):
    value: list[AttendanceReportOut]


class AttendanceRecordCollection(GraphModel):
    value: list[AttendanceRecordOut]


# --- virtualAppointment (beta) ---------------------------------------------------------------

# Python field name -> the property as sent, for telling which ones a PATCH sent.
BODY_KEYS = {
    name: field.alias or name for name, field in VirtualAppointmentBody.model_fields.items()
}


def _virtual_json(
    request: Request, runtime: Runtime, acting: Acting, meeting: MeetingView
) -> dict[str, Any]:
    document = meeting.virtual_appointment or {}
    settings = document.get("settings") or {}
    return {
        "@odata.context": context_url(
            request, f"{entity_set(acting)}({quote_key(meeting.id)})/virtualAppointment/$entity"
        ),
        "id": meeting.id,
        "appointmentClientJoinWebUrl": links.links_of(
            runtime.secret_key, runtime.base_url, meeting
        ).consumer_url,
        "appointmentClients": [
            {
                "displayName": None,
                "emailAddress": None,
                "phone": None,
                "smsCapablePhoneNumber": None,
                "timeZone": None,
                **client,
            }
            for client in document.get("appointmentClients") or []
        ],
        "externalAppointmentId": document.get("externalAppointmentId"),
        "externalAppointmentUrl": document.get("externalAppointmentUrl"),
        "settings": {
            "allowClientToJoinUsingBrowser": settings.get("allowClientToJoinUsingBrowser", True),
            "appointmentRemindersInfo": settings.get("appointmentRemindersInfo") or [],
        },
    }


@meeting_routes("GET", "/{meeting_id}/virtualAppointment", "get_virtual_appointment", on=router)
def get_virtual_appointment(
    request: Request, meeting_id: str, runtime: RuntimeDep, acting: Reader, response: Response
) -> Any:
    """The virtualAppointment of the meeting (beta), with its ETag."""
    meeting, document = virtual_appointments.get_virtual_appointment(
        runtime.db, acting.user_id, meeting_id
    )
    response.headers["ETag"] = virtual_appointments.etag(document)
    return _virtual_json(request, runtime, acting, meeting)


@meeting_routes(
    "PUT", "/{meeting_id}/virtualAppointment", "put_virtual_appointment", status_code=201, on=router
)
def put_virtual_appointment(
    request: Request,
    meeting_id: str,
    body: VirtualAppointmentBody,
    runtime: RuntimeDep,
    acting: Writer,
    response: Response,
) -> Any:
    """Attach (201) or replace (200) the meeting's virtualAppointment (beta)."""
    meeting, created = virtual_appointments.put_virtual_appointment(
        runtime.db,
        runtime.clock,
        acting.user_id,
        meeting_id,
        stored(body),
        actor=acting.actor,
    )
    response.status_code = 201 if created else 200
    response.headers["ETag"] = virtual_appointments.etag(meeting.virtual_appointment or {})
    return _virtual_json(request, runtime, acting, meeting)


@meeting_routes(
    "PATCH", "/{meeting_id}/virtualAppointment", "update_virtual_appointment", on=router
)
def update_virtual_appointment(
    request: Request,
    meeting_id: str,
    body: VirtualAppointmentBody,
    runtime: RuntimeDep,
    acting: Writer,
    response: Response,
    if_match: Annotated[str | None, Header()] = None,
) -> Any:
    """Update the sent properties of the virtualAppointment (If-Match: 412 when stale)."""
    changes = {
        key: value
        for key, value in body.model_dump(by_alias=True, mode="json", exclude_none=True).items()
        if key in {BODY_KEYS[name] for name in body.model_fields_set}
    }
    meeting = virtual_appointments.update_virtual_appointment(
        runtime.db,
        runtime.clock,
        acting.user_id,
        meeting_id,
        changes,
        if_match=if_match,
        actor=acting.actor,
    )
    response.headers["ETag"] = virtual_appointments.etag(meeting.virtual_appointment or {})
    return _virtual_json(request, runtime, acting, meeting)


@meeting_routes(
    "DELETE",
    "/{meeting_id}/virtualAppointment",
    "delete_virtual_appointment",
    status_code=204,
    response_class=Response,
    on=router,
)
def delete_virtual_appointment(meeting_id: str, runtime: RuntimeDep, acting: Writer) -> Response:
    """Remove the meeting's virtualAppointment (beta)."""
    virtual_appointments.delete_virtual_appointment(
        runtime.db, runtime.clock, acting.user_id, meeting_id, actor=acting.actor
    )
    return Response(status_code=204)


# --- SMS -------------------------------------------------------------------------------


def _attendees(
    body: VirtualAppointmentSmsBody | VirtualAppointmentReminderSmsBody,
) -> list[sms.SmsAttendee]:
    return [sms.SmsAttendee(item.phone_number, item.time_zone) for item in body.attendees]


@meeting_routes(
    "POST",
    "/{meeting_id}/sendVirtualAppointmentSms",
    "send_virtual_appointment_sms",
    status_code=202,
    response_class=Response,
    on=router,
)
def send_virtual_appointment_sms(
    meeting_id: str, body: VirtualAppointmentSmsBody, runtime: RuntimeDep, acting: Texter
) -> Response:
    """Text the attendees a confirmation, reschedule or cancellation with the join link."""
    sms.send_sms(
        runtime.db,
        runtime.clock,
        acting.user_id,
        meeting_id,
        _attendees(body),
        body.message_type,
        actor=acting.actor,
    )
    return Response(status_code=202)


@meeting_routes(
    "POST",
    "/{meeting_id}/sendVirtualAppointmentReminderSms",
    "send_virtual_appointment_reminder_sms",
    status_code=202,
    response_class=Response,
    on=router,
)
def send_virtual_appointment_reminder_sms(
    meeting_id: str, body: VirtualAppointmentReminderSmsBody, runtime: RuntimeDep, acting: Texter
) -> Response:
    """Text the attendees a reminder, due that long before the meeting's start."""
    sms.send_reminder_sms(
        runtime.db,
        runtime.clock,
        acting.user_id,
        meeting_id,
        _attendees(body),
        body.remind_before_time_in_minutes_type,
        actor=acting.actor,
    )
    return Response(status_code=202)


@meeting_routes(
    "GET",
    "/{meeting_id}/openvisit.notifications",
    "list_meeting_notifications",
    responses={200: {"model": AppointmentNotificationCollection}},
    on=router,
)
def list_meeting_notification_log(
    request: Request, meeting_id: str, runtime: RuntimeDep, acting: Reader
) -> Any:
    """The meeting's texts and their delivery log (OpenVisit extension), by due time."""
    items = list_meeting_notifications(runtime.db, acting.user_id, meeting_id)
    fragment = f"{entity_set(acting)}({quote_key(meeting_id)})/openvisit.notifications"
    return {
        "@odata.context": context_url(request, fragment),
        "value": [notification_json(item) for item in items],
    }


# --- attendance ----------------------------------------------------------------------------


def _record_json(record: AttendanceRecord) -> dict[str, Any]:
    return {
        "id": record.id,
        "emailAddress": record.email_address,
        "identity": {"id": record.identity_id, "displayName": record.display_name},
        "role": record.role,
        "totalAttendanceInSeconds": record.total_seconds,
        "attendanceIntervals": [
            {
                "joinDateTime": timestamp(interval.join),
                "leaveDateTime": timestamp(interval.leave),
                "durationInSeconds": interval.seconds,
            }
            for interval in record.intervals
        ],
    }


def _report_json(report: AttendanceReport, *, expand: bool) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": report.id,
        "totalParticipantCount": report.total_participant_count,
        "meetingStartDateTime": timestamp(report.start),
        "meetingEndDateTime": timestamp(report.end),
    }
    if expand:
        body["attendanceRecords"] = [_record_json(record) for record in report.records]
    return body


def _expands_records(request: Request) -> bool:
    expand = request.query_params.get("$expand") or request.query_params.get("expand") or ""
    return "attendancerecords" in {part.strip().lower() for part in expand.split(",")}


def _reports_set(acting: Acting, meeting_id: str) -> str:
    return f"{entity_set(acting)}({quote_key(meeting_id)})/attendanceReports"


@meeting_routes(
    "GET",
    "/{meeting_id}/attendanceReports",
    "list_attendance_reports",
    responses={200: {"model": AttendanceReportCollection}},
    on=router,
)
def list_attendance_reports(
    request: Request, meeting_id: str, runtime: RuntimeDep, acting: AttendanceReader
) -> Any:
    """One report per sitting of the meeting's call, oldest first."""
    reports = attendance.list_reports(
        runtime.db, acting.user_id, meeting_id, now=runtime.clock.now()
    )
    expand = _expands_records(request)
    return {
        "@odata.context": context_url(request, _reports_set(acting, meeting_id)),
        "value": [_report_json(report, expand=expand) for report in reports],
    }


@meeting_routes(
    "GET",
    "/{meeting_id}/attendanceReports/{report_id}",
    "get_attendance_report",
    responses={200: {"model": AttendanceReportOut}},
    on=router,
)
def get_attendance_report(
    request: Request, meeting_id: str, report_id: str, runtime: RuntimeDep, acting: AttendanceReader
) -> Any:
    """One sitting's report ($expand=attendanceRecords adds who was there when)."""
    report = attendance.get_report(
        runtime.db, acting.user_id, meeting_id, report_id, now=runtime.clock.now()
    )
    return {
        "@odata.context": context_url(request, f"{_reports_set(acting, meeting_id)}/$entity"),
        **_report_json(report, expand=_expands_records(request)),
    }


@meeting_routes(
    "GET",
    "/{meeting_id}/attendanceReports/{report_id}/attendanceRecords",
    "list_attendance_records",
    responses={200: {"model": AttendanceRecordCollection}},
    on=router,
)
def list_attendance_records(
    request: Request, meeting_id: str, report_id: str, runtime: RuntimeDep, acting: AttendanceReader
) -> Any:
    """Each participant of one sitting, with their join and leave times."""
    report = attendance.get_report(
        runtime.db, acting.user_id, meeting_id, report_id, now=runtime.clock.now()
    )
    set_name = f"{_reports_set(acting, meeting_id)}({quote_key(report_id)})/attendanceRecords"
    return {
        "@odata.context": context_url(request, set_name),
        "value": [_record_json(record) for record in report.records],
    }
