"""Typed settings, read from OPENVISIT_* environment variables and an optional .env file.

Only `app.py` and `cli.py` construct `Settings`; everything else receives values.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal, get_args

from pydantic import Field, SecretStr, ValidationInfo, field_validator
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, SettingsConfigDict

from openvisit import secret_key
from openvisit.addresses import parse_networks
from openvisit.bus import choice
from openvisit.meetings import ice
from openvisit.metrics_access import MetricsAccess
from openvisit.notify.transports import acs, smtp_config, twilio
from openvisit.origins import parse_origins
from openvisit.redact import mask_url_password
from openvisit.secret_key import UnsafeSettingsError

__all__ = [
    "SENSITIVE_SETTINGS",
    "Settings",
    "UnsafeSettingsError",
    "mask_url_password",
    "resolve_secret_key",
]

# Marks a setting that may carry a credential though it is no SecretStr (a URL with a
# password in it); see SENSITIVE_SETTINGS.
SENSITIVE: dict[str, Any] = {"sensitive": True}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="OPENVISIT_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    data_dir: Path = Field(
        default=Path("data"),
        description="Folder for the SQLite database, the generated secret key and uploads.",
    )
    database_url: str | None = Field(
        default=None,
        json_schema_extra=SENSITIVE,
        description=(
            "SQLAlchemy or plain database URL. Empty: a SQLite file in the data folder. "
            "postgresql://user@host:port/db selects PostgreSQL (psycopg driver)."
        ),
    )
    base_url: str | None = Field(
        default=None,
        description=(
            "Public base URL of this server, used in links sent to people. "
            "Empty: http://HOST:PORT of `openvisit serve`."
        ),
    )
    host: str = Field(default="127.0.0.1", description="Interface `openvisit serve` binds to.")
    port: int = Field(default=8000, ge=1, le=65535, description="Port `openvisit serve` binds.")
    workers: int = Field(
        default=1,
        ge=1,
        le=64,
        description="Worker processes `openvisit serve` runs; one per core is a good start.",
    )
    threads: int = Field(
        default=8,
        ge=1,
        le=256,
        description=(
            "Threads per worker process that run request handlers and database calls. "
            "A few per worker is enough: more only contend for the GIL."
        ),
    )
    header_timeout_seconds: float = Field(
        default=10.0,
        gt=0,
        le=300,
        description=(
            "Time a client has to send a whole request (headers and body) once it connects "
            "or starts its next request; slower or silent connections are closed."
        ),
    )
    keepalive_timeout_seconds: float = Field(
        default=5.0,
        gt=0,
        le=300,
        description="Time an idle keep-alive connection stays open between requests.",
    )
    max_connections: int = Field(
        default=10_000,  # connections.DEFAULT_MAX_CONNECTIONS: a waiting room of thousands
        ge=1,
        le=100_000,
        description=(
            "Open connections per worker process, WebSockets (the waiting room) included. "
            "Past it a new connection replaces the longest-idle one, or gets a 503 when all "
            "are busy. The soft file limit is raised to hold them; lowered to fit the hard one."
        ),
    )
    booking_concurrency: int | None = Field(
        default=None,
        ge=1,
        le=1024,
        description=(
            "Booking writes (create, update, cancel) one worker process runs at once. "
            "Empty: OPENVISIT_THREADS."
        ),
    )
    booking_queue: int = Field(
        default=64,
        ge=0,
        le=100_000,
        description=(
            "Booking writes that may wait for one of those places, per worker; "
            "past it a request gets 503 with Retry-After at once."
        ),
    )
    secret_key: SecretStr | None = Field(
        default=None,
        description=(
            "Key that signs sessions and links. Empty: generated once and kept in the data "
            "folder. Placeholders are refused outside dev mode."
        ),
    )
    redis_url: str | None = Field(
        default=None,
        json_schema_extra=SENSITIVE,
        description=(
            "Redis URL (redis://host:6379/0) that carries lobby, signaling and chat events "
            "between server processes and hosts."
        ),
    )
    # After database_url and redis_url, which its check reads.
    event_bus: Literal["auto", "inprocess", "redis", "postgres"] = Field(
        default="auto",
        description=(
            "How lobby, signaling and chat events reach every server process: redis "
            "(OPENVISIT_REDIS_URL), postgres (LISTEN/NOTIFY on the PostgreSQL database), or "
            "inprocess (one process only). auto: redis when OPENVISIT_REDIS_URL is set, else "
            "postgres on PostgreSQL, else inprocess."
        ),
    )
    stun_urls: str = Field(
        default="",
        description=(
            "STUN servers (stun:host[:port], comma-separated) browsers use to find their "
            "public address. Empty: none, so calls connect only on one network or via TURN."
        ),
    )
    # The secret comes before turn_urls, whose check reads it.
    turn_secret: SecretStr | None = Field(
        default=None,
        description=(
            "coturn's static-auth-secret (use-auth-secret), which signs each participant's "
            "time-limited TURN credentials. At least 16 characters."
        ),
    )
    turn_urls: str = Field(
        default="",
        description=(
            "TURN servers (turn:host[:port][?transport=udp|tcp] or turns:host[:port], "
            "comma-separated) that relay media when peers cannot reach each other. "
            "Needs OPENVISIT_TURN_SECRET."
        ),
    )
    turn_credential_ttl_seconds: int = Field(
        default=ice.DEFAULT_TTL_SECONDS,
        ge=ice.MIN_TTL_SECONDS,
        le=ice.MAX_TTL_SECONDS,
        description=(
            "Lifetime of the TURN credentials a participant gets on joining; longer than "
            "the longest visit, as an ICE restart after a network drop allocates a relay "
            "again with the credential the page already has."
        ),
    )
    ice_transport_policy: Literal["all", "relay"] = Field(
        default="all",
        description=(
            "all: peers connect directly when they can, else through TURN; relay: all media "
            "goes through TURN (hides addresses; needs OPENVISIT_TURN_URLS)."
        ),
    )
    # The SMTP settings come before email_transport, whose check reads them.
    smtp_host: str | None = Field(
        default=None, description="SMTP server (host name or address) e-mail is sent through."
    )
    smtp_security: Literal["starttls", "tls", "none"] = Field(
        default="starttls",
        description=(
            "How the SMTP connection is protected: starttls (upgrade required, port 587), "
            "tls (implicit TLS, port 465) or none (plain text, for a relay on this host)."
        ),
    )
    smtp_port: int | None = Field(
        default=None,
        ge=1,
        le=65535,
        description="Port of the SMTP server. Empty: 587 for starttls, 465 for tls, 25 for none.",
    )
    smtp_username: str | None = Field(
        default=None, description="User name for SMTP AUTH. Empty: no authentication."
    )
    smtp_password: SecretStr | None = Field(default=None, description="Password of that SMTP user.")
    smtp_from_address: str | None = Field(
        default=None,
        description="Address e-mail is sent from (From and envelope sender); smtp needs it.",
    )
    smtp_from_name: str | None = Field(
        default=None,
        description="Name shown with that address, such as the practice's. Empty: the address.",
    )
    smtp_timeout_seconds: float = Field(
        default=20.0,
        gt=0,
        le=300,
        description=(
            "Time the SMTP server has to answer each step (connect, TLS, each command) "
            "before the send is retried later."
        ),
    )
    smtp_ca_file: Path | None = Field(
        default=None,
        description=(
            "PEM file of CA certificates trusted for the SMTP server's certificate, besides "
            "the system's (a private CA)."
        ),
    )
    smtp_connections: int = Field(
        default=2,
        ge=1,
        le=32,
        description="Connections to the SMTP server one process keeps open and sends over.",
    )
    email_transport: Literal["outbox", "smtp"] = Field(
        default="outbox",
        description=(
            "How e-mail leaves: smtp (OPENVISIT_SMTP_*), or outbox, which keeps every "
            "message for signed-in administrators to read at /dev/outbox."
        ),
    )
    # The SMS providers' settings come before sms_transport, whose check reads them.
    twilio_account_sid: str | None = Field(
        default=None, description="Twilio Account SID (AC...), named in every API path."
    )
    twilio_auth_token: SecretStr | None = Field(
        default=None,
        description="Twilio Auth Token of that account. Or set an API key (the next two).",
    )
    twilio_api_key_sid: str | None = Field(
        default=None, description="Twilio API key SID (SK...), used instead of the Auth Token."
    )
    twilio_api_key_secret: SecretStr | None = Field(
        default=None, description="Secret of that Twilio API key."
    )
    twilio_from_number: str | None = Field(
        default=None, description="Twilio number (E.164) texts are sent from."
    )
    twilio_messaging_service_sid: str | None = Field(
        default=None,
        description="Twilio Messaging Service (MG...) that picks the sender; wins over the number.",
    )
    twilio_api_base_url: str = Field(
        default="https://api.twilio.com",
        description="Base URL of Twilio's REST API (a regional edge, or a test server).",
    )
    acs_endpoint: str | None = Field(
        default=None,
        description="Azure Communication Services resource URL, "
        "https://<name>.communication.azure.com.",
    )
    acs_access_key: SecretStr | None = Field(
        default=None, description="Access key of that resource (base64, as the portal shows it)."
    )
    acs_from_number: str | None = Field(
        default=None, description="Number of that resource (E.164) texts are sent from."
    )
    sms_timeout_seconds: float = Field(
        default=10.0,
        gt=0,
        le=120,
        description="Time an SMS provider has to answer one send before it is retried later.",
    )
    sms_transport: Literal["outbox", "twilio", "acs"] = Field(
        default="outbox",
        description=(
            "How text messages leave: twilio (OPENVISIT_TWILIO_*), acs for Azure "
            "Communication Services (OPENVISIT_ACS_*), or outbox, kept for /dev/outbox."
        ),
    )
    notifications_in_server: bool = Field(
        default=True,
        description=(
            "Send due notifications from `openvisit serve` itself. Turn off when separate "
            "`openvisit worker` processes send them."
        ),
    )
    upload_max_bytes: int = Field(
        default=10 * 1024 * 1024,
        ge=1024,
        le=1024 * 1024 * 1024,
        description=(
            "Largest file a consumer or staff member may upload (a service's or an "
            "appointment's document); larger request bodies are refused (413) unread."
        ),
    )
    upload_max_files_per_appointment: int = Field(
        default=10,
        ge=1,
        le=1000,
        description="Files a consumer may upload to one appointment through its manage link.",
    )
    upload_max_total_bytes_per_appointment: int = Field(
        default=50 * 1024 * 1024,
        ge=1024,
        le=1024 * 1024 * 1024,
        description="Bytes all files uploaded to one appointment may take together.",
    )
    notification_poll_seconds: float = Field(
        default=5.0,
        gt=0,
        le=3600,
        description=(
            "How often a dispatcher with nothing to send looks for due notifications. "
            "An idle look is one indexed read."
        ),
    )
    notification_batch_size: int = Field(
        default=50,
        ge=1,
        le=1000,
        description="Due notifications one dispatcher claims at once.",
    )
    notification_concurrency: int = Field(
        default=8,
        ge=1,
        le=256,
        description="Sends one dispatcher (one process) has in flight at once.",
    )
    notification_max_attempts: int = Field(
        default=8,
        ge=1,
        le=100,
        description=(
            "Attempts at one notification before a failure that could pass (a refused "
            "connection, a timeout, HTTP 429/5xx) marks it failed."
        ),
    )
    notification_retry_seconds: float = Field(
        default=60.0,
        gt=0,
        le=86_400,
        description=(
            "Wait before the second attempt; it doubles with each attempt up to "
            "OPENVISIT_NOTIFICATION_RETRY_MAX_SECONDS (a provider's Retry-After wins if longer)."
        ),
    )
    notification_retry_max_seconds: float = Field(
        default=3600.0,
        gt=0,
        le=7 * 86_400,
        description="Longest wait between two attempts at one notification.",
    )
    notification_send_timeout_seconds: float = Field(
        default=60.0,
        gt=0,
        le=3600,
        description=(
            "Time one send may take (connect, transfer, answer) before it counts as a "
            "failure worth retrying."
        ),
    )
    notification_lease_seconds: float = Field(
        default=300.0,
        gt=0,
        le=86_400,
        description=(
            "How long a claimed notification stays its dispatcher's; a dispatcher that dies "
            "leaves it to another once this passes. Longer than the send timeout."
        ),
    )
    dev_mode: bool = Field(
        default=False, description="Development mode: allows placeholder secrets."
    )
    business_id_domain: str = Field(
        default="openvisit.local",
        description="Domain used in generated business ids (name@domain, as Graph does).",
    )
    session_max_age_seconds: int = Field(
        default=8 * 3600, ge=60, description="Lifetime of a staff sign-in session."
    )
    trusted_proxies: str = Field(
        default="",
        description=(
            "Reverse proxies (addresses or CIDR networks, comma- or space-separated) whose "
            "X-Forwarded-For names the client. Empty: the direct peer is the client."
        ),
    )
    cors_origins: str = Field(
        default="",
        description=(
            "Origins (scheme://host[:port], comma- or space-separated) whose browser pages "
            "may call the API. Empty: no cross-origin calls are allowed."
        ),
    )
    page_size: int = Field(
        default=100, ge=1, le=1000, description="Largest page a collection returns at once."
    )
    metrics_token: SecretStr | None = Field(
        default=None,
        description="Bearer token `GET /metrics` requires. With no token and no address list "
        "the endpoint is off (404).",
    )
    metrics_addresses: str | None = Field(
        default=None,
        description="Comma-separated client addresses or networks (127.0.0.1, 10.0.0.0/8) "
        "that may read `GET /metrics`; with a token set too, both must match.",
    )
    log_level: Literal["debug", "info", "warning", "error"] = Field(
        default="info",
        description=(
            "Lowest level `openvisit serve` logs. Other commands log warnings and errors "
            "only, unless this is set."
        ),
    )
    log_format: Literal["text", "json"] = Field(
        default="text",
        description="Log line format on standard error: text or json (one object a line).",
    )

    @field_validator("log_level", "log_format", "ice_transport_policy", mode="before")
    @classmethod
    def _lower(cls, value: object) -> object:
        return value.lower() if isinstance(value, str) else value

    @field_validator("stun_urls")
    @classmethod
    def _check_stun_urls(cls, value: str) -> str:
        ice.parse_urls(value, ice.STUN_SCHEMES)  # a typo must stop the start, not the call
        return value

    @field_validator("turn_secret")
    @classmethod
    def _check_turn_secret(cls, value: SecretStr | None) -> SecretStr | None:
        problem = ice.check_secret(value.get_secret_value() if value is not None else None)
        if problem is not None:
            raise ValueError(problem)
        return value

    @field_validator("turn_urls")
    @classmethod
    def _check_turn_urls(cls, value: str, info: ValidationInfo) -> str:
        urls = ice.parse_urls(value, ice.TURN_SCHEMES)
        if "turn_secret" in info.data:  # else the secret's own error says what is wrong
            secret: SecretStr | None = info.data["turn_secret"]
            problem = ice.check_turn(urls, secret.get_secret_value() if secret else None)
            if problem is not None:
                raise ValueError(problem)
        return value

    @field_validator("ice_transport_policy")
    @classmethod
    def _check_policy(cls, value: str, info: ValidationInfo) -> str:
        if "turn_urls" in info.data:
            problem = ice.check_policy(
                value, ice.parse_urls(info.data["turn_urls"], ice.TURN_SCHEMES)
            )
            if problem is not None:
                raise ValueError(problem)
        return value

    @field_validator("email_transport")
    @classmethod
    def _check_email_transport(cls, value: str, info: ValidationInfo) -> str:
        # Like the SMS providers: a server chosen without its settings stops the start.
        problem = smtp_config.options_problem(info.data) if value == "smtp" else None
        if problem is not None:
            raise ValueError(problem)
        return value

    @field_validator("sms_transport")
    @classmethod
    def _check_sms_transport(cls, value: str, info: ValidationInfo) -> str:
        # A provider chosen without its settings stops the start, not the first reminder.
        checks = {"twilio": twilio.options_problem, "acs": acs.options_problem}
        problem = checks[value](info.data) if value in checks else None
        if problem is not None:
            raise ValueError(problem)
        return value

    @field_validator("event_bus")
    @classmethod
    def _check_event_bus(cls, value: str, info: ValidationInfo) -> str:
        # `postgres` on SQLite or `redis` without a URL stops the start, not the first visit.
        database_url = normalize_database_url(info.data.get("database_url"), Path("."))
        choice.resolve(value, redis_url=info.data.get("redis_url"), database_url=database_url)
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _check_proxies(cls, value: str) -> str:
        parse_networks(value)  # refuse a typo at start, not at the first request
        return value

    @field_validator("cors_origins")
    @classmethod
    def _check_origins(cls, value: str) -> str:
        parse_origins(value)  # a typo must stop the start, not silently allow nothing
        return value

    @field_validator("notification_lease_seconds")
    @classmethod
    def _lease_outlasts_a_send(cls, value: float, info: ValidationInfo) -> float:
        # A send still running when its lease ends may be sent by a second worker too.
        timeout = info.data.get("notification_send_timeout_seconds")
        if timeout is not None and value <= timeout:
            raise ValueError(
                f"must be longer than OPENVISIT_NOTIFICATION_SEND_TIMEOUT_SECONDS ({timeout:g})"
            )
        return value

    @field_validator("notification_retry_max_seconds")
    @classmethod
    def _cap_above_first(cls, value: float, info: ValidationInfo) -> float:
        first = info.data.get("notification_retry_seconds")
        if first is not None and value < first:
            raise ValueError(f"must be at least OPENVISIT_NOTIFICATION_RETRY_SECONDS ({first:g})")
        return value

    @field_validator("base_url")
    @classmethod
    def _strip_slash(cls, value: str | None) -> str | None:
        return value.rstrip("/") if value else None

    @field_validator("metrics_addresses")
    @classmethod
    def _check_networks(cls, value: str | None) -> str | None:
        parse_networks(value)  # a typo must stop the start, not leave /metrics open or off
        return value

    @property
    def ice_config(self) -> ice.IceConfig:
        """The ICE servers and policy every participant's RTCConfiguration is built from."""
        secret = self.turn_secret.get_secret_value() if self.turn_secret else None
        return ice.IceConfig(
            stun_urls=ice.parse_urls(self.stun_urls, ice.STUN_SCHEMES),
            turn_urls=ice.parse_urls(self.turn_urls, ice.TURN_SCHEMES),
            turn_secret=secret,
            ttl_seconds=self.turn_credential_ttl_seconds,
            transport_policy=self.ice_transport_policy,
        )

    @property
    def metrics_access(self) -> MetricsAccess:
        token = self.metrics_token.get_secret_value() if self.metrics_token else None
        return MetricsAccess(token=token or None, networks=parse_networks(self.metrics_addresses))

    @property
    def public_base_url(self) -> str:
        """The configured base URL, or the address `serve` listens on when none is set."""
        if self.base_url:
            return self.base_url
        # A wildcard bind address is no place to send a person; loopback is.
        host = "127.0.0.1" if self.host in ("0.0.0.0", "::", "") else self.host  # noqa: S104
        host = f"[{host}]" if ":" in host else host
        return f"http://{host}:{self.port}"

    @property
    def resolved_event_bus(self) -> choice.BusName:
        """The bus `event_bus` means here: auto resolved, never an unusable one."""
        return choice.resolve(
            self.event_bus, redis_url=self.redis_url, database_url=self.resolved_database_url
        )

    @property
    def resolved_database_url(self) -> str:
        return normalize_database_url(self.database_url, self.data_dir)

    def masked(self) -> dict[str, Any]:
        """The effective settings with secrets masked, for `openvisit config`."""
        values = self.model_dump(mode="json")
        values["secret_key"] = "********" if self.secret_key else "(generated in data folder)"
        values["database_url"] = self.resolved_database_url
        values["base_url"] = self.public_base_url
        # Every string, not only the known URLs: a setting added later may hold one too.
        return {
            name: mask_url_password(value) if isinstance(value, str) else value
            for name, value in values.items()
        }


def _is_sensitive(field: FieldInfo) -> bool:
    extra = field.json_schema_extra
    return _holds_secret(field.annotation) or (
        isinstance(extra, dict) and bool(extra.get("sensitive"))
    )


def _holds_secret(annotation: object) -> bool:
    return annotation is SecretStr or any(_holds_secret(arg) for arg in get_args(annotation))


# The settings whose value is never shown back (a start-up error names the variable but not
# what it was set to): every SecretStr and every field marked SENSITIVE. Derived from the
# model, so a secret added later is covered by its type alone.
SENSITIVE_SETTINGS = frozenset(
    name for name, field in Settings.model_fields.items() if _is_sensitive(field)
)


def normalize_database_url(url: str | None, data_dir: Path) -> str:
    """Turn what a person writes into a URL SQLAlchemy can use with our chosen drivers."""
    if not url:
        return f"sqlite:///{(data_dir / 'openvisit.db').resolve()}"
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def resolve_secret_key(settings: Settings, *, create: bool = True) -> str:
    """Return the signing key: the configured one, or one generated and kept on disk.

    Raises UnsafeSettingsError for a weak key; see openvisit.secret_key.
    """
    configured = settings.secret_key.get_secret_value() if settings.secret_key is not None else None
    value = secret_key.resolve(
        configured, settings.data_dir, dev_mode=settings.dev_mode, create=create
    )
    return value or ""
