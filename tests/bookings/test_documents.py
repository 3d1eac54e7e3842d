"""Documents before the visit, through the services, on both backends: files land private
under random names, limits and types hold, and nothing stays on disk that no row names."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import re
import stat
import threading
from datetime import timedelta

import pytest
from sqlalchemy import update

from openvisit.bookings import businesses, documents, linked_documents, records
from openvisit.bookings.appointments import cancel, delete
from openvisit.bookings.document_store import DocumentStore, folder_name
from openvisit.bookings.documents import NewFile, NewLink
from openvisit.bookings.manage_links import manage_token_for
from openvisit.bookings.services import SERVICES
from openvisit.errors import Conflict, InvalidInput, NotFound, PayloadTooLarge, UnsupportedMediaType
from openvisit.runtime import Runtime
from openvisit.store.models import Appointment
from tests.bookings import sample_files
from tests.bookings.clinic import CONSUMER, Clinic, book_at, make_clinic
from tests.conftest import TEST_SECRET

STORED_NAME = re.compile(r"[0-9a-f]{32}")


def add_file(runtime: Runtime, clinic: Clinic, data: bytes, name: str = "scan.pdf", **kwargs):
    upload = NewFile(io.BytesIO(data), name, **kwargs)
    return documents.add_service_file(
        runtime.db,
        runtime.clock,
        runtime.documents,
        clinic["business"],
        clinic["visit"],
        upload,
        actor="test",
    )


def add_link(runtime: Runtime, clinic: Clinic, name: str = "Consent form"):
    link = NewLink(name, "https://example.test/consent", "Sign before you come")
    return documents.add_service_link(
        runtime.db, runtime.clock, clinic["business"], clinic["visit"], link, actor="test"
    )


def link_for(runtime: Runtime, clinic: Clinic, **kwargs) -> str:
    return manage_token_for(TEST_SECRET, book_at(runtime, clinic, **kwargs))


def upload(runtime: Runtime, token: str, data: bytes, name: str = "meds.txt"):
    return linked_documents.upload_for_link(
        runtime.db,
        runtime.clock,
        runtime.documents,
        TEST_SECRET,
        token,
        NewFile(io.BytesIO(data), name),
    )


def stored(runtime: Runtime):
    return sample_files.files_under(runtime.documents.root)


def with_limits(runtime: Runtime, **limits: int) -> Runtime:
    store = DocumentStore(runtime.documents.root, **limits)
    return dataclasses.replace(runtime, documents=store)


def test_a_file_is_kept_private_under_a_random_name_with_its_digest(runtime, clinic):
    data = sample_files.pdf()
    added = add_file(runtime, clinic, data, "C:\\fakepath\\My scan.pdf", description="Page 1")

    [path] = stored(runtime)
    assert path.read_bytes() == data
    assert STORED_NAME.fullmatch(path.name)
    assert path.parent == runtime.documents.root / folder_name(clinic["business"])
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    for folder in (path.parent, runtime.documents.root):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert (added.display_name, added.description) == ("My scan.pdf", "Page 1")
    assert (added.kind, added.content_type, added.size_bytes) == (
        "file",
        "application/pdf",
        len(data),
    )
    assert added.sha256 == hashlib.sha256(data).hexdigest()
    assert added.uploaded_by == "staff"
    assert added.file_name == "My scan.pdf"


def test_the_content_decides_the_type_not_the_name(runtime, clinic):
    photo = add_file(runtime, clinic, sample_files.heic(), "IMG_0001")
    assert (photo.content_type, photo.file_name) == ("image/heic", "IMG_0001.heic")

    with pytest.raises(UnsupportedMediaType) as refused:
        add_file(runtime, clinic, sample_files.windows_exe(), "scan.pdf")

    assert refused.value.reason == "documentTypeNotAllowed"
    assert refused.value.status == 415
    assert len(stored(runtime)) == 1  # the photo only: the program left no trace


def test_a_file_over_the_limit_is_refused_while_it_streams(runtime, clinic):
    runtime = with_limits(runtime, max_bytes=2048)
    padding = b"\n%" + b"x" * 2046
    at_limit = (sample_files.pdf() + padding)[:2048]
    add_file(runtime, clinic, at_limit)

    with pytest.raises(PayloadTooLarge) as refused:
        add_file(runtime, clinic, at_limit + b"x")

    assert (refused.value.reason, refused.value.params) == ("documentTooLarge", {"limit": "2 KiB"})
    assert len(stored(runtime)) == 1


def test_an_empty_file_is_refused(runtime, clinic):
    with pytest.raises(InvalidInput) as refused:
        add_file(runtime, clinic, b"")
    assert refused.value.reason == "documentEmpty"
    assert stored(runtime) == []


class BrokenStream(io.RawIOBase):
    """A client that goes away after its first chunk, as a dropped connection does."""

    def __init__(self, first: bytes) -> None:
        self.first: bytes | None = first

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        del size
        if self.first is None:
            raise ConnectionResetError("the client went away")
        chunk, self.first = self.first, None
        return chunk


def test_an_upload_cut_off_half_way_leaves_nothing(runtime, clinic):
    token = link_for(runtime, clinic)
    broken = NewFile(BrokenStream(sample_files.pdf()), "scan.pdf")  # type: ignore[arg-type]
    with pytest.raises(ConnectionResetError):
        linked_documents.upload_for_link(
            runtime.db, runtime.clock, runtime.documents, TEST_SECRET, token, broken
        )
    assert stored(runtime) == []
    assert (
        linked_documents.documents_for_link(
            runtime.db, runtime.clock, runtime.documents, TEST_SECRET, token
        ).uploads
        == ()
    )


def test_an_appointment_takes_so_many_files_and_no_more(runtime, clinic):
    runtime = with_limits(runtime, max_files_per_appointment=2)
    token = link_for(runtime, clinic)
    upload(runtime, token, sample_files.text())
    runtime.clock.advance(timedelta(minutes=1))
    upload(runtime, token, sample_files.png(), "x-ray.png")

    with pytest.raises(Conflict) as refused:
        upload(runtime, token, sample_files.jpeg())

    assert (refused.value.reason, refused.value.params["count"]) == ("documentLimitReached", 2)
    page = linked_documents.documents_for_link(
        runtime.db, runtime.clock, runtime.documents, TEST_SECRET, token
    )
    assert [item.display_name for item in page.uploads] == ["meds.txt", "x-ray.png"]
    assert page.room == 0
    assert len(stored(runtime)) == 2


def test_a_file_that_would_pass_the_total_is_refused_after_it_was_copied(runtime, clinic):
    # The total is known only once the file has streamed: the check inside the write
    # transaction refuses it, and the copy already on disk goes.
    runtime = with_limits(runtime, max_total_bytes_per_appointment=3000)
    token = link_for(runtime, clinic)
    upload(runtime, token, b"a" * 2000)

    with pytest.raises(Conflict) as refused:
        upload(runtime, token, b"b" * 1001)

    assert refused.value.reason == "documentTotalTooLarge"
    assert [path.read_bytes() for path in stored(runtime)] == [b"a" * 2000]
    upload(runtime, token, b"c" * 1000)  # exactly the total still fits
    assert len(stored(runtime)) == 2


def test_a_cancelled_appointment_takes_no_files(runtime, clinic):
    booked = book_at(runtime, clinic)
    token = manage_token_for(TEST_SECRET, booked)
    cancel(runtime.db, runtime.clock, clinic["business"], booked.id, None, authority=CONSUMER)

    with pytest.raises(Conflict) as refused:
        upload(runtime, token, sample_files.text())

    assert refused.value.reason == "appointmentCancelled"
    assert stored(runtime) == []
    page = linked_documents.documents_for_link(
        runtime.db, runtime.clock, runtime.documents, TEST_SECRET, token
    )
    assert page.room == 0


@pytest.mark.parametrize("tamper", ["revoke", "forge"])
def test_a_revoked_or_forged_link_stores_and_opens_nothing(runtime, clinic, tamper):
    booked = book_at(runtime, clinic)
    token = manage_token_for(TEST_SECRET, booked)
    kept = upload(runtime, token, sample_files.text())
    if tamper == "revoke":
        with runtime.db.write() as session:
            session.execute(update(Appointment).values(link_version=Appointment.link_version + 1))
    else:
        token = token[:-2] + ("AA" if token[-2:] != "AA" else "BB")

    for attempt in (
        lambda: upload(runtime, token, sample_files.pdf()),
        lambda: linked_documents.open_for_link(
            runtime.db, runtime.clock, runtime.documents, TEST_SECRET, token, kept.id
        ),
        lambda: linked_documents.delete_for_link(
            runtime.db, runtime.clock, runtime.documents, TEST_SECRET, token, kept.id
        ),
    ):
        with pytest.raises(NotFound) as refused:
            attempt()
        assert refused.value.reason == "manageLinkInvalid"
    assert len(stored(runtime)) == 1


def test_a_link_opens_its_own_uploads_and_its_services_prerequisites_only(runtime, clinic):
    form = add_file(runtime, clinic, sample_files.pdf())
    group_form = documents.add_service_file(
        runtime.db,
        runtime.clock,
        runtime.documents,
        clinic["business"],
        clinic["group"],
        NewFile(io.BytesIO(sample_files.pdf("Group rules")), "rules.pdf"),
        actor="test",
    )
    mine, theirs = link_for(runtime, clinic), link_for(runtime, clinic, staff=("bob",))
    their_upload = upload(runtime, theirs, sample_files.text())

    def opened(token: str, document_id: str) -> bytes:
        content = linked_documents.open_for_link(
            runtime.db, runtime.clock, runtime.documents, TEST_SECRET, token, document_id
        )
        return b"".join(content.chunks())

    assert opened(mine, form.id) == sample_files.pdf()
    assert opened(theirs, their_upload.id) == sample_files.text()
    for document_id in (their_upload.id, group_form.id, "no-such-document"):
        with pytest.raises(NotFound) as refused:
            opened(mine, document_id)
        assert refused.value.reason == "documentNotFound"


def test_a_consumer_deletes_their_own_upload_not_a_prerequisite(runtime, clinic):
    form = add_file(runtime, clinic, sample_files.pdf())
    token = link_for(runtime, clinic)
    sent = upload(runtime, token, sample_files.text())

    linked_documents.delete_for_link(
        runtime.db, runtime.clock, runtime.documents, TEST_SECRET, token, sent.id
    )
    with pytest.raises(NotFound):
        linked_documents.delete_for_link(
            runtime.db, runtime.clock, runtime.documents, TEST_SECRET, token, form.id
        )

    [left] = stored(runtime)
    assert left.read_bytes() == sample_files.pdf()


def test_staff_read_uploads_and_a_team_member_only_their_own(runtime, clinic):
    token = link_for(runtime, clinic)  # with Dr. Ann
    sent = upload(runtime, token, sample_files.text())
    appointment = linked_documents.documents_for_link(
        runtime.db, runtime.clock, runtime.documents, TEST_SECRET, token
    ).linked.appointment

    listed = documents.list_appointment_documents(runtime.db, clinic["business"], appointment.id)
    own = documents.list_appointment_documents(
        runtime.db, clinic["business"], appointment.id, own_staff_id=clinic["ann"]
    )
    assert [item.id for item in listed] == [item.id for item in own] == [sent.id]
    assert listed[0].uploaded_by == "customer"
    with pytest.raises(NotFound) as refused:
        documents.open_appointment_document(
            runtime.db,
            runtime.documents,
            clinic["business"],
            appointment.id,
            sent.id,
            own_staff_id=clinic["bob"],
        )
    assert refused.value.reason == "recordNotFound"


def test_deleting_a_document_removes_its_file(runtime, clinic):
    kept, gone = add_file(runtime, clinic, sample_files.png()), add_file(runtime, clinic, b"text")

    documents.delete_service_document(
        runtime.db,
        runtime.clock,
        runtime.documents,
        clinic["business"],
        clinic["visit"],
        gone.id,
        actor="test",
    )

    [left] = stored(runtime)
    assert left.read_bytes() == sample_files.png()
    assert [item.id for item in _service_documents(runtime, clinic)] == [kept.id]


def _service_documents(runtime: Runtime, clinic: Clinic, service: str = "visit"):
    return documents.list_service_documents(runtime.db, clinic["business"], clinic[service])


def test_deleting_an_appointment_or_service_or_business_removes_their_files(runtime, clinic):
    add_file(runtime, clinic, sample_files.pdf())
    booked = book_at(runtime, clinic)
    upload(runtime, manage_token_for(TEST_SECRET, booked), sample_files.text())
    other = _other_business_file(runtime)
    assert len(stored(runtime)) == 3

    delete(
        runtime.db,
        runtime.clock,
        clinic["business"],
        booked.id,
        actor="test",
        documents=runtime.documents,
    )
    assert sorted(path.read_bytes() for path in stored(runtime)) == sorted(
        [sample_files.pdf(), sample_files.png()]
    )

    records.delete_record(
        runtime.db,
        runtime.clock,
        SERVICES,
        clinic["business"],
        clinic["visit"],
        actor="test",
        documents=runtime.documents,
    )
    assert stored(runtime) == [other]

    add_file(runtime, {**clinic, "visit": clinic["group"]}, sample_files.jpeg())
    businesses.delete_business(
        runtime.db, runtime.clock, clinic["business"], actor="test", documents=runtime.documents
    )
    assert stored(runtime) == [other]
    assert not (runtime.documents.root / folder_name(clinic["business"])).exists()


def _other_business_file(runtime: Runtime):
    other = make_clinic(runtime)
    add_file(runtime, other, sample_files.png())
    return next(
        path for path in stored(runtime) if path.parent.name == folder_name(other["business"])
    )


def test_deleting_a_service_needs_the_document_store(runtime, clinic):
    with pytest.raises(TypeError, match="needs the document store"):
        records.delete_record(
            runtime.db, runtime.clock, SERVICES, clinic["business"], clinic["visit"], actor="test"
        )


def test_a_service_lists_at_most_so_many_documents(runtime, clinic):
    for number in range(documents.MAX_SERVICE_DOCUMENTS):
        add_link(runtime, clinic, f"Form {number}")
    with pytest.raises(Conflict) as refused:
        add_link(runtime, clinic, "One too many")
    with pytest.raises(Conflict):
        add_file(runtime, clinic, sample_files.pdf())
    assert refused.value.params == {"owner": "service", "count": documents.MAX_SERVICE_DOCUMENTS}
    assert stored(runtime) == []


def test_messages_list_the_prerequisites_with_a_url_each(runtime, clinic):
    form = add_file(runtime, clinic, sample_files.pdf(), "Intake form.pdf")
    consent = add_link(runtime, clinic)

    listed = documents.prerequisites_for(runtime.db, clinic["business"], clinic["visit"])

    assert {item.id for item in listed} == {form.id, consent.id}
    by_id = {item.id: item for item in listed}
    token = link_for(runtime, clinic)
    base = "https://visit.example.test"
    assert by_id[form.id].url(base, token) == f"{base}/manage/{token}/documents/{form.id}"
    assert by_id[consent.id].url(base, token) == "https://example.test/consent"
    assert by_id[consent.id].description == "Sign before you come"
    assert documents.prerequisites_for(runtime.db, clinic["business"], clinic["group"]) == ()
    assert documents.prerequisites_for(runtime.db, clinic["business"], "gone") == ()


def test_the_store_needs_no_folder_until_the_first_file(tmp_path, runtime, clinic):
    store = DocumentStore(tmp_path / "fresh" / "uploads")
    assert not store.root.exists()
    staged = store.stage(clinic["business"], io.BytesIO(sample_files.text()))
    try:
        assert staged.path.name.startswith(".incoming-")
        assert stat.S_IMODE(store.root.stat().st_mode) == 0o700
    finally:
        staged.discard()
    assert sample_files.files_under(store.root) == []


def test_uploads_at_once_never_pass_the_count(runtime, clinic):
    # All four pass the early check together; the count under the appointment's row lock
    # (one write at a time on SQLite) lets two in and leaves no copy of the others.
    runtime = with_limits(runtime, max_files_per_appointment=2)
    token = link_for(runtime, clinic)
    start = threading.Barrier(4)
    outcomes: list[str] = []

    def send(number: int) -> None:
        start.wait(timeout=10)
        try:
            upload(runtime, token, f"file {number}".encode())
            outcomes.append("stored")
        except Conflict as refused:
            outcomes.append(refused.reason)

    threads = [threading.Thread(target=send, args=(number,)) for number in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(outcomes) == ["documentLimitReached"] * 2 + ["stored"] * 2
    assert len(stored(runtime)) == 2
