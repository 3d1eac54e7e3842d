"""Staff sign-in through the real app: login form, session cookie, CSRF, log-out."""

from __future__ import annotations

import dataclasses
import re
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from httpx2 import Response  # the client starlette.testclient is built on
from sqlalchemy import delete

from openvisit.app import create_app
from openvisit.auth.sessions import LOGIN_CSRF_COOKIE, SESSION_COOKIE, new_nonce
from openvisit.auth.users import UserView
from openvisit.clock import FixedClock
from openvisit.meetings.staff_users import create_user
from openvisit.runtime import Runtime
from openvisit.store.models import StaffUser

EMAIL = "ada@example.test"
PASSWORD = "correct horse battery"
WRONG_CREDENTIALS = "E-mail or password is wrong."
_CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


def make_admin(runtime: Runtime, display_name: str = "Ada Lovelace") -> UserView:
    return create_user(
        runtime.db,
        runtime.clock,
        email=EMAIL,
        role="administrator",
        password=PASSWORD,
        display_name=display_name,
    )


def csrf_from(response: Response) -> str:
    match = _CSRF_FIELD.search(response.text)
    assert match, "the page has no CSRF field"
    return match.group(1)


def submit_login(
    client: TestClient, email: str = EMAIL, password: str = PASSWORD, next_path: str = ""
) -> Response:
    """Open the login form (which sets the CSRF cookie) and post it like a browser."""
    token = csrf_from(client.get("/login"))
    form = {"email": email, "password": password, "csrf_token": token, "next": next_path}
    return client.post("/login", data=form)


def set_cookie_headers(response: Response, name: str) -> list[str]:
    return [value for value in response.headers.get_list("set-cookie") if value.startswith(name)]


def staff_page_with_session(client: TestClient, session_cookie: str) -> Response:
    # An explicit Cookie header replaces the client's jar for this one request; bytes, so
    # a non-ASCII cookie reaches the server as a browser would send it.
    header = f"{SESSION_COOKIE}={session_cookie}".encode()
    return client.get("/staff", headers={b"Cookie": header})


@pytest.fixture
def browser(app) -> TestClient:
    """A client that shows redirects instead of following them, with a cookie jar."""
    return TestClient(app, follow_redirects=False)


@pytest.fixture
def signed_in(browser: TestClient, runtime: Runtime) -> TestClient:
    make_admin(runtime)
    assert submit_login(browser).status_code == 303
    return browser


def test_login_page_is_a_form_with_csrf_and_security_headers(browser):
    response = browser.get("/login")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert 'name="email"' in response.text
    assert 'name="password"' in response.text
    assert csrf_from(response)
    assert response.headers["content-security-policy"].startswith("default-src 'self'")
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "same-origin"
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["cache-control"] == "no-store"
    [cookie] = set_cookie_headers(response, LOGIN_CSRF_COOKIE)
    assert "HttpOnly" in cookie
    assert "Path=/login" in cookie


def test_reopening_the_login_form_keeps_the_csrf_cookie(browser):
    first = csrf_from(browser.get("/login"))
    second = browser.get("/login")

    # Two open tabs must both stay valid: the second visit reuses the nonce.
    assert csrf_from(second) == first
    [cookie] = set_cookie_headers(second, LOGIN_CSRF_COOKIE)
    assert cookie.startswith(f"{LOGIN_CSRF_COOKIE}={browser.cookies[LOGIN_CSRF_COOKIE]};")


def test_sign_in_sets_a_session_cookie_and_lands_on_staff_page(browser, runtime):
    make_admin(runtime)

    response = submit_login(browser)

    assert response.status_code == 303
    assert response.headers["location"] == "/staff"
    [cookie] = set_cookie_headers(response, SESSION_COOKIE)
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    assert "Path=/;" in cookie or cookie.endswith("Path=/")
    assert f"Max-Age={runtime.session_max_age_seconds}" in cookie
    assert "Secure" not in cookie
    page = browser.get("/staff")
    assert page.status_code == 200
    assert "Signed in as Ada Lovelace (administrator)" in page.text
    assert page.headers["content-security-policy"].startswith("default-src 'self'")


def test_sign_in_accepts_the_email_in_any_case(browser, runtime):
    make_admin(runtime)

    assert submit_login(browser, email="  ADA@Example.TEST ").status_code == 303


def test_session_cookie_is_secure_when_the_server_is_https(runtime):
    make_admin(runtime)
    app = create_app(runtime=dataclasses.replace(runtime, secure_cookies=True))
    client = TestClient(app, base_url="https://testserver", follow_redirects=False)

    form_page = client.get("/login")
    response = submit_login(client)

    assert "Secure" in set_cookie_headers(form_page, LOGIN_CSRF_COOKIE)[0]
    assert response.status_code == 303
    assert "Secure" in set_cookie_headers(response, SESSION_COOKIE)[0]


def test_wrong_password_is_refused_with_a_generic_message(browser, runtime):
    make_admin(runtime)

    response = submit_login(browser, password="not the password")

    assert response.status_code == 401
    assert WRONG_CREDENTIALS in response.text
    assert set_cookie_headers(response, SESSION_COOKIE) == []
    assert browser.get("/staff").status_code == 303


def test_unknown_email_gets_the_same_answer_as_a_wrong_password(browser, runtime):
    make_admin(runtime)

    wrong_password = submit_login(browser, password="not the password")
    unknown = submit_login(browser, email="nobody@example.test")

    assert unknown.status_code == wrong_password.status_code == 401
    assert unknown.text.replace("nobody@example.test", EMAIL) == wrong_password.text


def test_failed_sign_in_escapes_what_the_user_typed(browser, runtime):
    make_admin(runtime)
    token = csrf_from(browser.get("/login"))
    typed = '"><script>alert(1)</script>'

    form = {"email": typed, "password": "x" * 8, "csrf_token": token, "next": ""}
    response = browser.post("/login", data=form)

    assert response.status_code == 401
    assert "<script>alert(1)" not in response.text
    assert "&lt;script&gt;" in response.text


@pytest.mark.parametrize("token", ["", "forged-token"], ids=["missing", "wrong"])
def test_login_without_a_valid_csrf_token_is_refused(browser, runtime, token):
    make_admin(runtime)
    browser.get("/login")

    form = {"email": EMAIL, "password": PASSWORD, "csrf_token": token}
    response = browser.post("/login", data=form)

    assert response.status_code == 400
    assert "This form has expired" in response.text
    assert set_cookie_headers(response, SESSION_COOKIE) == []
    # The re-rendered form carries a fresh token that works.
    retry = {**form, "csrf_token": csrf_from(response)}
    assert browser.post("/login", data=retry).status_code == 303


def test_login_without_the_csrf_cookie_is_refused(app, runtime):
    make_admin(runtime)
    token = csrf_from(TestClient(app).get("/login"))
    cookieless = TestClient(app, follow_redirects=False)

    form = {"email": EMAIL, "password": PASSWORD, "csrf_token": token}
    response = cookieless.post("/login", data=form)

    assert response.status_code == 400
    assert set_cookie_headers(response, SESSION_COOKIE) == []


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example",
        "https://evil.example",
        "/\\evil.example",
        "/\t/evil.example",
        "javascript:alert(1)",
        "evil.example",
    ],
)
def test_sign_in_never_redirects_off_site(browser, runtime, target):
    make_admin(runtime)

    response = submit_login(browser, next_path=target)

    assert response.status_code == 303
    assert response.headers["location"] == "/staff"


def test_sign_in_returns_to_a_local_next_path(browser, runtime):
    make_admin(runtime)

    response = submit_login(browser, next_path="/staff?tab=today")

    assert response.headers["location"] == "/staff?tab=today"


def test_staff_page_sends_signed_out_visitors_to_login(browser):
    response = browser.get("/staff")

    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/staff"
    assert response.headers["x-frame-options"] == "DENY"


def test_login_form_carries_the_next_path_through(browser):
    response = browser.get("/login?next=/staff")

    assert 'name="next" value="/staff"' in response.text


def test_signed_in_visitor_skips_the_login_form(signed_in):
    response = signed_in.get("/login")

    assert response.status_code == 303
    assert response.headers["location"] == "/staff"


def test_home_redirects_to_staff(browser):
    response = browser.get("/")

    assert response.status_code == 303
    assert response.headers["location"] == "/staff"


def test_staff_page_escapes_the_display_name(browser, runtime):
    make_admin(runtime, display_name="<b>Ada</b>")
    submit_login(browser)

    page = browser.get("/staff")

    assert "Signed in as &lt;b&gt;Ada&lt;/b&gt; (administrator)" in page.text


def test_session_expires_after_its_max_age(signed_in, runtime, clock: FixedClock):
    clock.advance(timedelta(seconds=runtime.session_max_age_seconds))
    assert signed_in.get("/staff").status_code == 200

    clock.advance(timedelta(seconds=1))
    response = signed_in.get("/staff")

    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/staff"
    # The dead cookie is dropped rather than sent again with every request.
    [cleared] = set_cookie_headers(response, SESSION_COOKIE)
    assert "Max-Age=0" in cleared


def test_session_started_in_the_future_is_refused(signed_in, clock: FixedClock):
    # The clock moved back (or a row was forged): a session cannot start after "now".
    assert signed_in.get("/staff").status_code == 200

    clock.advance(timedelta(minutes=-5))

    assert signed_in.get("/staff").status_code == 303


def test_tampered_session_cookie_is_signed_out(signed_in):
    cookie = signed_in.cookies[SESSION_COOKIE]
    flipped = cookie[:5] + ("A" if cookie[5] != "A" else "B") + cookie[6:]

    assert staff_page_with_session(signed_in, cookie).status_code == 200
    assert staff_page_with_session(signed_in, flipped).status_code == 303
    for junk in ("garbage", "a.b.c", "..", "\u00e9t\u00e9", "x" * 4000):
        assert staff_page_with_session(signed_in, junk).status_code == 303


def test_well_formed_cookie_the_server_never_issued_is_signed_out(browser, runtime):
    make_admin(runtime)

    assert staff_page_with_session(browser, new_nonce()).status_code == 303


def test_session_for_a_missing_user_is_signed_out(signed_in, runtime):
    with runtime.db.write() as session:
        session.execute(delete(StaffUser))

    assert signed_in.get("/staff").status_code == 303


def test_log_out_clears_the_session(signed_in):
    token = csrf_from(signed_in.get("/staff"))

    response = signed_in.post("/logout", data={"csrf_token": token})

    assert response.status_code == 303
    assert response.headers["location"] == "/login"
    [cleared] = set_cookie_headers(response, SESSION_COOKIE)
    assert "Max-Age=0" in cleared
    assert SESSION_COOKIE not in signed_in.cookies
    assert signed_in.get("/staff").status_code == 303


@pytest.mark.parametrize("token", ["", "forged-token"], ids=["missing", "wrong"])
def test_log_out_requires_the_csrf_token(signed_in, token):
    response = signed_in.post("/logout", data={"csrf_token": token})

    assert response.status_code == 400
    assert "This form has expired" in response.text
    assert set_cookie_headers(response, SESSION_COOKIE) == []
    assert signed_in.get("/staff").status_code == 200


def test_csrf_token_of_another_session_is_refused(signed_in, app):
    other = TestClient(app, follow_redirects=False)
    assert submit_login(other).status_code == 303
    other_token = csrf_from(other.get("/staff"))

    response = signed_in.post("/logout", data={"csrf_token": other_token})

    assert response.status_code == 400


def test_log_out_when_already_signed_out_goes_to_login(browser):
    response = browser.post("/logout", data={})

    assert response.status_code == 303
    assert response.headers["location"] == "/login"


def test_stylesheet_is_served_locally(browser):
    response = browser.get("/static/openvisit.css")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/css")
    assert response.headers["x-content-type-options"] == "nosniff"


def test_pages_stay_out_of_the_api_schema(browser):
    paths = browser.get("/openapi.json").json()["paths"]

    assert not {"/", "/login", "/logout", "/staff"} & set(paths)
