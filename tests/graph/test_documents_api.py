"""openvisit.documents over HTTP: a service's prerequisites (files and links) and an
appointment's uploads, their downloads' headers, the upload body cap, types by content,
and who may see what."""

from __future__ import annotations

import dataclasses
import io
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from openvisit.auth.tokens import create_token
from openvisit.bookings import linked_documents
from openvisit.bookings.appointments import cancel
from openvisit.bookings.document_rows import NewFile
from openvisit.bookings.document_store import DocumentStore
from openvisit.bookings.manage_links import manage_token_for
from openvisit.bookings.records import update_record
from openvisit.bookings.staff import STAFF_MEMBERS
from openvisit.meetings.staff_users import create_user
from openvisit.runtime import Runtime
from tests.bookings import sample_files
from tests.bookings.clinic import CONSUMER, Clinic, book_at, make_clinic
from tests.conftest import TEST_SECRET
from tests.factories import BUSINESSES, make_staff

FILE_SCOPES = "Bookings.Manage.All Bookings.Read.All"


@pytest.fixture
def clinic(runtime: Runtime) -> Clinic:
    return make_clinic(runtime)


def documents_url(clinic: Clinic, service: str = "visit", *rest: str) -> str:
    return "/".join(
        [f"{BUSINESSES}/{clinic['business']}/services/{clinic[service]}/openvisit.documents", *rest]
    )


def appointment_url(clinic: Clinic, appointment_id: str, *rest: str) -> str:
    base = f"{BUSINESSES}/{clinic['business']}/appointments/{appointment_id}/openvisit.documents"
    return "/".join([base, *rest])


def post_file(
    client: TestClient,
    auth: dict[str, str],
    url: str,
    data: bytes,
    name: str = "intake.pdf",
    declared: str = "application/pdf",
    **fields: str,
) -> Any:
    return client.post(url, headers=auth, files={"file": (name, data, declared)}, data=fields)


def refusal(response: Any, status: int, reason: str) -> str:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["innerError"]["code"] == reason
    return str(error["message"])


def user_token(runtime: Runtime, email: str) -> dict[str, str]:
    """A token acting for a (new) user with that e-mail; their staff records give the role."""
    create_user(runtime.db, runtime.clock, email=email, role="viewer", password=None)
    _info, secret = create_token(
        runtime.db, runtime.clock, name=email, scopes=FILE_SCOPES, user_email=email
    )
    return {"Authorization": f"Bearer {secret}"}


def test_a_file_is_added_listed_downloaded_and_deleted(client, auth, runtime, clinic):
    data = sample_files.pdf()
    # The part claims an image and a .png name: the content says PDF, and PDF it is.
    added = post_file(
        client,
        auth,
        documents_url(clinic),
        data,
        name="Überweisung.png",
        declared="image/png",
        displayName="Überweisung",
        description="Bring it signed",
    )
    assert added.status_code == 201, added.text
    body = added.json()
    document_id = body["id"]
    value_url = documents_url(clinic, "visit", document_id, "$value")
    assert body["@odata.context"].endswith(
        f"/$metadata#solutions/bookingBusinesses('{clinic['business']}')/services"
        f"('{clinic['visit']}')/openvisit.documents/$entity"
    )
    assert body["@odata.mediaReadLink"] == f"http://testserver{value_url}"
    assert body | {"createdDateTime": None, "sha256": None} == {
        **{key: body[key] for key in ("@odata.context", "@odata.mediaReadLink", "id")},
        "@odata.mediaContentType": "application/pdf",
        "kind": "file",
        "displayName": "Überweisung",
        "description": "Bring it signed",
        "webUrl": None,
        "contentType": "application/pdf",
        "size": len(data),
        "sha256": None,
        "uploadedBy": "staff",
        "createdDateTime": None,
    }

    listed = client.get(documents_url(clinic), headers=auth).json()["value"]
    got = client.get(documents_url(clinic, "visit", document_id), headers=auth).json()
    download = client.get(value_url, headers=auth)

    assert [item["id"] for item in listed] == [document_id]
    assert got["displayName"] == "Überweisung"
    assert download.status_code == 200
    assert download.content == data
    assert download.headers["content-type"] == "application/pdf"
    assert download.headers["content-disposition"] == (
        "attachment; filename=\"Uberweisung.pdf\"; filename*=UTF-8''%C3%9Cberweisung.pdf"
    )
    assert download.headers["x-content-type-options"] == "nosniff"
    assert download.headers["content-security-policy"] == "sandbox"
    assert download.headers["etag"] == f'"{body["sha256"]}"'
    assert download.headers["cache-control"] == "private, no-store"

    assert (
        client.delete(documents_url(clinic, "visit", document_id), headers=auth).status_code == 204
    )
    refusal(client.get(value_url, headers=auth), 404, "documentNotFound")
    assert sample_files.files_under(runtime.documents.root) == []


def test_a_link_is_added_with_json_and_has_no_content(client, auth, clinic):
    link = {"displayName": "Consent form", "webUrl": "https://example.test/consent"}
    added = client.post(documents_url(clinic), headers=auth, json=link)

    assert added.status_code == 201, added.text
    assert added.json()["kind"] == "link"
    assert added.json()["webUrl"] == link["webUrl"]
    assert "@odata.mediaReadLink" not in added.json()
    value = client.get(documents_url(clinic, "visit", added.json()["id"], "$value"), headers=auth)
    refusal(value, 404, "documentIsLink")


@pytest.mark.parametrize(
    ("body", "reason", "words"),
    [
        ({"displayName": "Form", "webUrl": "javascript:alert(1)"}, "invalidProperty", "webUrl"),
        ({"webUrl": "https://example.test/form"}, "propertyRequired", "displayName"),
        (
            {"displayName": "", "webUrl": "https://example.test/form"},
            "invalidProperty",
            "displayName",
        ),
    ],
    ids=["script-url", "no-name", "empty-name"],
)
def test_a_bad_link_is_refused_by_property(client, auth, clinic, body, reason, words):
    assert words in refusal(
        client.post(documents_url(clinic), headers=auth, json=body), 400, reason
    )


def test_bodies_that_hold_no_document_are_refused(client, auth, runtime, clinic):
    url = documents_url(clinic)
    no_file = client.post(
        url, headers=auth, files={"other": ("x.pdf", b"%PDF-1.7", "application/pdf")}
    )
    as_text = client.post(url, headers={**auth, "content-type": "text/plain"}, content=b"%PDF-1.7")
    program = post_file(client, auth, url, sample_files.windows_exe(), name="scan.pdf")
    empty = post_file(client, auth, url, b"")

    refusal(no_file, 400, "documentFileRequired")
    refusal(as_text, 415, "documentBodyUnsupported")
    assert "PDF, PNG, JPEG" in refusal(program, 415, "documentTypeNotAllowed")
    refusal(empty, 400, "documentEmpty")
    assert client.get(url, headers=auth).json()["value"] == []
    assert sample_files.files_under(runtime.documents.root) == []


@pytest.fixture
def small_uploads(app: FastAPI, runtime: Runtime) -> Iterator[Runtime]:
    """The app with a 4 KiB upload limit, as OPENVISIT_UPLOAD_MAX_BYTES=4096 sets it."""
    small = dataclasses.replace(runtime, documents=DocumentStore(runtime.documents.root, 4096))
    app.state.runtime = small
    yield small
    app.state.runtime = runtime


def test_a_file_over_the_limit_is_refused_and_a_body_over_the_cap_unread(
    client, auth, clinic, small_uploads
):
    url = documents_url(clinic)
    over_file = post_file(client, auth, url, sample_files.pdf() + b"x" * 4096)
    huge = b"x" * (small_uploads.documents.max_request_bytes + 1)
    declared = post_file(client, auth, url, huge)

    def chunks() -> Iterator[bytes]:
        head = b"--b\r\nContent-Disposition: form-data; name=file; filename=a.pdf\r\n\r\n%PDF-"
        yield head
        for _ in range(len(huge) // 65536 + 1):
            yield b"x" * 65536

    streamed = client.post(
        url, headers={**auth, "content-type": "multipart/form-data; boundary=b"}, content=chunks()
    )

    assert "4 KiB" in refusal(over_file, 413, "documentTooLarge")
    refusal(declared, 413, "bodyTooLarge")
    refusal(streamed, 413, "bodyTooLarge")
    assert client.get(url, headers=auth).json()["value"] == []
    assert sample_files.files_under(small_uploads.documents.root) == []


def test_only_uploads_may_pass_the_apis_body_cap(client, auth, clinic):
    two_mib = sample_files.pdf() + b"\n%" + b"x" * (2 * 1024 * 1024)
    uploaded = post_file(client, auth, documents_url(clinic), two_mib)
    customer = client.post(
        f"{BUSINESSES}/{clinic['business']}/customers",
        headers=auth,
        json={"displayName": "Ann", "notes": "x" * (2 * 1024 * 1024)},
    )

    assert uploaded.status_code == 201, uploaded.text
    assert uploaded.json()["size"] == len(two_mib)
    refusal(customer, 413, "bodyTooLarge")


def test_paths_match_as_graph_matches_them(client, auth, clinic):
    added = post_file(client, auth, documents_url(clinic), sample_files.png(), name="map.png")
    beta = (
        f"/beta/bookingbusinesses/{clinic['business']}/SERVICES/{clinic['visit']}"
        f"/OpenVisit.Documents/{added.json()['id']}/$value"
    )
    response = client.get(beta, headers=auth)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "image/png"


def test_a_reader_reads_and_only_a_manager_writes(client, make_token, clinic):
    reader = {"Authorization": f"Bearer {make_token('Bookings.Read.All')}"}
    writer = {"Authorization": f"Bearer {make_token('Bookings.ReadWrite.All')}"}
    url = documents_url(clinic)

    assert client.get(url, headers=reader).status_code == 200
    for headers in (reader, writer):
        refused = post_file(client, headers, url, sample_files.pdf())
        assert "Bookings.Manage.All" in refusal(refused, 403, "scopeMissing")
    refusal(client.get(url), 401, "tokenMissing")


def test_another_business_and_its_services_are_out_of_reach(client, auth, runtime, clinic):
    added = post_file(client, auth, documents_url(clinic), sample_files.pdf()).json()
    other = make_clinic(runtime)
    make_staff(runtime, other["business"], "Boss", email_address="boss@fabrikam.test")
    outsider = user_token(runtime, "boss@fabrikam.test")

    for url in (documents_url(clinic), documents_url(clinic, "visit", added["id"], "$value")):
        assert "does not exist" in refusal(
            client.get(url, headers=outsider), 404, "businessNotFound"
        )
    # The document's id under another service of the same business names nothing.
    moved = documents_url(clinic, "group", added["id"], "$value")
    refusal(client.get(moved, headers=auth), 404, "documentNotFound")
    foreign = documents_url(other, "visit", added["id"])
    refusal(client.get(foreign, headers=auth), 404, "documentNotFound")


def upload_as_consumer(runtime: Runtime, clinic: Clinic, staff: str = "ann") -> tuple[str, str]:
    booked = book_at(runtime, clinic, staff=(staff,))
    sent = linked_documents.upload_for_link(
        runtime.db,
        runtime.clock,
        runtime.documents,
        TEST_SECRET,
        manage_token_for(TEST_SECRET, booked),
        NewFile(io.BytesIO(sample_files.jpeg()), "insurance card.jpg"),
    )
    return booked.id, sent.id


def test_staff_read_what_a_consumer_uploaded(client, auth, runtime, clinic):
    appointment, sent = upload_as_consumer(runtime, clinic)

    listed = client.get(appointment_url(clinic, appointment), headers=auth).json()
    got = client.get(appointment_url(clinic, appointment, sent), headers=auth).json()
    download = client.get(appointment_url(clinic, appointment, sent, "$value"), headers=auth)

    assert [item["id"] for item in listed["value"]] == [sent]
    assert listed["@odata.context"].endswith(f"/appointments('{appointment}')/openvisit.documents")
    assert got["uploadedBy"] == "customer"
    assert got["@odata.mediaReadLink"].endswith(
        appointment_url(clinic, appointment, sent, "$value")
    )
    assert download.content == sample_files.jpeg()
    assert download.headers["content-disposition"].startswith(
        'attachment; filename="insurance card.jpg"'
    )


def test_a_team_member_reads_their_own_appointments_documents_only(client, runtime, clinic):
    mine, sent = upload_as_consumer(runtime, clinic, "ann")
    theirs, _ = upload_as_consumer(runtime, clinic, "bob")
    changes = {"role": "teamMember"}
    update_record(
        runtime.db,
        runtime.clock,
        STAFF_MEMBERS,
        clinic["business"],
        clinic["ann"],
        changes,
        actor="test",
    )
    ann = user_token(runtime, "ann@example.test")  # Dr. Ann's staff record's address

    own = client.get(appointment_url(clinic, mine, sent, "$value"), headers=ann)
    other = client.get(appointment_url(clinic, theirs), headers=ann)

    assert own.status_code == 200, own.text
    assert own.content == sample_files.jpeg()
    refusal(other, 404, "recordNotFound")


def test_a_cancelled_appointments_documents_are_off_the_calendar(client, auth, runtime, clinic):
    appointment, sent = upload_as_consumer(runtime, clinic)
    cancel(runtime.db, runtime.clock, clinic["business"], appointment, None, authority=CONSUMER)

    refusal(
        client.get(appointment_url(clinic, appointment, sent), headers=auth),
        404,
        "appointmentWasCancelled",
    )
