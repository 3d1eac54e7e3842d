"""Staff sign-in: the login form, the signed-in landing page, and log-out.

Cookies are set here; what they contain and how they are checked lives in auth/sessions.py.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request, Response

from openvisit.auth.sessions import (
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    check_csrf,
    csrf_token,
    login_nonce,
    sign_out,
)
from openvisit.auth.sign_in import SignInContext, SignInRequest, WrongCredentials, sign_in
from openvisit.errors import RetryLater
from openvisit.runtime import Runtime
from openvisit.web.deps import ClientDep, RuntimeDep, SignedInDep
from openvisit.web.redirects import LOGIN_PATH, STAFF_HOME, login_url, safe_next
from openvisit.web.rendering import PageRoute, page, see_other

router = APIRouter(include_in_schema=False, route_class=PageRoute)

# One message for an unknown e-mail and a wrong password, so the form reveals no accounts.
WRONG_CREDENTIALS = "E-mail or password is wrong."
STALE_FORM = "This form has expired. Please try again."

FormField = Annotated[str, Form()]


def login_redirect(request: Request, runtime: Runtime) -> Response:
    """Send a signed-out visitor to the login page, to come back to this page after.

    Any session cookie the browser sent is stale here (else the visitor would be signed in),
    so it is dropped rather than re-sent with every request.
    """
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    response = see_other(login_url(target))
    if SESSION_COOKIE in request.cookies:
        _clear_session_cookie(response, runtime)
    return response


@router.get("/login")
def login_form(
    request: Request,
    runtime: RuntimeDep,
    signed_in: SignedInDep,
    next_path: Annotated[str, Query(alias="next")] = "",
) -> Response:
    if signed_in is not None:
        return see_other(safe_next(next_path))
    return _login_page(request, runtime, next_path=next_path)


@router.post("/login")
async def login(
    request: Request,
    runtime: RuntimeDep,
    client: ClientDep,
    email: FormField = "",
    password: FormField = "",
    csrf: Annotated[str, Form(alias="csrf_token")] = "",
    next_path: Annotated[str, Form(alias="next")] = "",
) -> Response:
    # async: waiting for the password hash (on its own pool) must hold no request thread.
    if not check_csrf(runtime.secret_key, request.cookies.get(LOGIN_CSRF_COOKIE), csrf):
        return _login_page(
            request, runtime, next_path=next_path, email=email, error=STALE_FORM, status_code=400
        )
    # Browsers trim type=email fields; a pasted address from a plain client may not be.
    email = email.strip()
    context = SignInContext(
        db=runtime.db,
        clock=runtime.clock,
        hashing=runtime.password_hashing,
        secret_key=runtime.secret_key,
        session_max_age_seconds=runtime.session_max_age_seconds,
    )
    try:
        result = await sign_in(context, SignInRequest(email, password, client))
    except WrongCredentials:
        return _login_page(
            request,
            runtime,
            next_path=next_path,
            email=email,
            error=WRONG_CREDENTIALS,
            status_code=401,
        )
    except RetryLater as refused:  # throttled (429) or the hashing queue is full (503)
        response = _login_page(
            request,
            runtime,
            next_path=next_path,
            email=email,
            error=refused.message,
            status_code=refused.status,
        )
        response.headers["Retry-After"] = str(refused.retry_after_seconds)
        return response
    response = see_other(safe_next(next_path))
    response.set_cookie(
        SESSION_COOKIE,
        result.cookie,
        max_age=runtime.session_max_age_seconds,
        path="/",
        secure=runtime.secure_cookies,
        httponly=True,
        samesite="lax",
    )
    # The login nonce has done its job; the session's own nonce guards forms from now on.
    response.delete_cookie(
        LOGIN_CSRF_COOKIE,
        path=LOGIN_PATH,
        secure=runtime.secure_cookies,
        httponly=True,
        samesite="lax",
    )
    return response


@router.get("/staff")
def staff_home(request: Request, runtime: RuntimeDep, signed_in: SignedInDep) -> Response:
    if signed_in is None:
        return login_redirect(request, runtime)
    context = {
        "user": signed_in.user,
        "csrf_token": csrf_token(runtime.secret_key, signed_in.session.nonce),
    }
    return page(request, "staff.html", context)


@router.post("/logout")
def logout(
    request: Request,
    runtime: RuntimeDep,
    signed_in: SignedInDep,
    client: ClientDep,
    csrf: Annotated[str, Form(alias="csrf_token")] = "",
) -> Response:
    # Without a live session there is nothing a forged request could end, so no token is
    # needed to drop a stale cookie; with one, a cross-site form must not sign the user out.
    if signed_in is not None and not check_csrf(runtime.secret_key, signed_in.session.nonce, csrf):
        context = {"message": STALE_FORM, "back": STAFF_HOME}
        return page(request, "error.html", context, status_code=400)
    if signed_in is not None:
        # Ends the session on the server too, so a copy of the cookie stops working.
        sign_out(runtime.db, runtime.clock, signed_in, client)
    response = see_other(LOGIN_PATH)
    _clear_session_cookie(response, runtime)
    return response


def _login_page(
    request: Request,
    runtime: Runtime,
    *,
    next_path: str,
    email: str = "",
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    nonce = login_nonce(request.cookies.get(LOGIN_CSRF_COOKIE))
    context = {
        "email": email,
        "error": error,
        "next_path": safe_next(next_path),
        "csrf_token": csrf_token(runtime.secret_key, nonce),
    }
    response = page(request, "login.html", context, status_code=status_code)
    # Scoped to /login: only the login form's POST needs it.
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        nonce,
        path=LOGIN_PATH,
        secure=runtime.secure_cookies,
        httponly=True,
        samesite="lax",
    )
    return response


def _clear_session_cookie(response: Response, runtime: Runtime) -> None:
    response.delete_cookie(
        SESSION_COOKIE, path="/", secure=runtime.secure_cookies, httponly=True, samesite="lax"
    )
