"""The server's settings: one validated object read from ``NEWSDESK_*`` variables and the command line.

Command-line values win over the environment. ``newsdesk serve`` validates the
settings once in the parent process, then exports them as environment variables
so that every uvicorn worker builds the same object (see :meth:`ServeSettings.to_environment`).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ENV_PREFIX = "NEWSDESK_"
API_KEY_ENV = ENV_PREFIX + "API_KEY"
ADMIN_KEY_ENV = ENV_PREFIX + "ADMIN_KEY"
INSECURE_FLAG = "--insecure-no-key"
ADMIN_PREFIX = "/v1/admin/"
LogLevel = Literal["critical", "error", "warning", "info", "debug"]


ENVIRONMENT_ONLY = ("api_key", "admin_key", "reload_dir")
"""Settings with no command-line option: the keys (so they never show in ``ps``) and internal plumbing."""


class SettingsError(ValueError):
    """The settings are invalid; the message names each bad setting, its option and its variable."""


class ServeSettings(BaseSettings):
    """Everything ``newsdesk serve`` can be told, with limits checked on construction."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore", frozen=True)

    model: Path = Field(description="models/NAME (its current version is served) or one version folder")
    host: str = Field(
        "127.0.0.1",
        min_length=1,
        description="interface to listen on; any other than loopback needs NEWSDESK_API_KEY or --insecure-no-key "
        "(protected mode)",
    )
    port: int = Field(8000, ge=1, le=65535, description="TCP port to listen on")
    workers: int = Field(
        1, ge=1, le=64, description="worker processes, each with its own copy of the model; about one per core"
    )
    threads: int = Field(
        2,
        ge=1,
        le=256,
        description="threads per worker that run model calls; they share one GIL, so more threads only "
        "time-slice requests (2 was fastest on BBC: one runs while the other's request is parsed and answered)",
    )
    inline_max_chars: int = Field(
        20_000,
        ge=0,
        le=10_000_000,
        description="one-article requests with at most this many characters of text are modelled on the event "
        "loop instead of a thread (skips a hand-off that costs about 1 ms; TF-IDF bundles only; 0: always a thread)",
    )
    api_key: SecretStr | None = Field(
        None, description="when set, every /v1 endpoint requires it ('Authorization: Bearer KEY' or 'X-API-Key: KEY')"
    )
    admin_key: SecretStr | None = Field(
        None,
        description="when set, /v1/admin/* requires this key instead of the API key (falls back to the API key)",
    )
    insecure_no_key: bool = Field(
        False,
        description="listen on a non-loopback address without an API key (protected mode off; logs a warning "
        "at start and every hour)",
    )
    max_text_chars: int = Field(200_000, ge=1, description="longest accepted 'text' or 'title', in characters (413)")
    max_html_chars: int = Field(
        2_000_000, ge=1, description="longest accepted 'text' when it is an HTML page, in characters (413)"
    )
    max_body_bytes: int = Field(2 * 1024 * 1024, ge=1024, description="largest accepted request body, in bytes (413)")
    max_batch_size: int = Field(256, ge=1, description="most articles in one /v1/predict/batch request (413)")
    max_cluster_size: int = Field(200, ge=2, description="most articles in one /v1/cluster request (413)")
    request_timeout_seconds: float = Field(
        30.0,
        gt=0,
        le=3600,
        description="a client must send a request's headers within this many seconds of connecting (or of the "
        "previous response), and its body within this many seconds of the headers (408, connection closed)",
    )
    keep_alive_seconds: float = Field(
        5.0, gt=0, le=3600, description="an idle keep-alive connection is closed after this many seconds"
    )
    max_connections: int = Field(
        1000,
        ge=1,
        description="most open connections plus running requests per worker; beyond it uvicorn answers 503",
    )
    log_level: LogLevel = Field("info", description="log level of the server and its request log")
    opentelemetry: bool = Field(
        False,
        description="send FastAPI's OpenTelemetry traces, metrics and logs to the globally configured providers "
        "(off by default: the check costs time on every request)",
    )
    reload_dir: Path | None = Field(
        None,
        description="folder where workers share reload notices (set by 'newsdesk serve --workers N'; "
        "leave unset with one worker)",
    )
    reload_poll_seconds: float = Field(
        1.0, gt=0, le=60, description="how often a worker checks for a reload done by another worker"
    )

    @field_validator("api_key", "admin_key")
    @classmethod
    def _key_not_blank(cls, value: SecretStr | None, info: ValidationInfo) -> SecretStr | None:
        if value is not None and not value.get_secret_value().strip():
            variable = ENV_PREFIX + str(info.field_name).upper()
            raise ValueError(f"{variable} is set but empty; unset it to serve without a key, or set a real key")
        return value

    def key_for(self, path: str) -> SecretStr | None:
        """The key a request to ``path`` must carry: the admin key under /v1/admin/ when set, else the API key."""
        if self.admin_key is not None and path.startswith(ADMIN_PREFIX):
            return self.admin_key
        return self.api_key

    @property
    def needs_keys(self) -> bool:
        """Whether any endpoint needs a key (so the key check is wired in at all)."""
        return self.api_key is not None or self.admin_key is not None

    @property
    def unprotected_exposure(self) -> bool:
        """Listening beyond loopback with no API key: allowed only with ``--insecure-no-key``."""
        return self.api_key is None and not is_loopback(self.host)

    @field_validator("log_level", mode="before")
    @classmethod
    def _lower_level(cls, value: Any) -> Any:
        return value.lower() if isinstance(value, str) else value

    def to_environment(self) -> dict[str, str]:
        """The settings as ``NEWSDESK_*`` variables, so a worker process rebuilds exactly this object."""
        env = {}
        for name in type(self).model_fields:
            value = getattr(self, name)
            if value is None:
                continue
            if isinstance(value, SecretStr):
                value = value.get_secret_value()
            env[ENV_PREFIX + name.upper()] = str(value)
        return env


def is_loopback(host: str) -> bool:
    """Whether ``host`` only reaches this machine (127.0.0.0/8, ::1, or a name resolving only to those).

    ``0.0.0.0`` and ``::`` (every interface) are not loopback; a name that does not resolve counts as
    exposed, so a typo never switches protected mode off.
    """
    name = host.strip().strip("[]")
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        pass
    if name.lower() == "localhost":
        return True
    try:
        infos = socket.getaddrinfo(name, None, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        return False
    addresses = {info[4][0] for info in infos}
    return bool(addresses) and all(ipaddress.ip_address(a.split("%")[0]).is_loopback for a in addresses)


def check_protected_mode(settings: ServeSettings) -> None:
    """Refuse to listen beyond loopback without an API key unless the risk was accepted (``--insecure-no-key``).

    Raises :class:`SettingsError` with one line naming both fixes.
    """
    if settings.unprotected_exposure and not settings.insecure_no_key:
        raise SettingsError(
            f"refusing to listen on {settings.host} without an API key (protected mode): anyone who can reach "
            f"the port could call /v1/admin/reload; set {API_KEY_ENV} (e.g. {API_KEY_ENV}=$(openssl rand -hex 32)), "
            f"or pass {INSECURE_FLAG} to accept the risk, or listen on 127.0.0.1"
        )


def option_name(field: str) -> str:
    """The command-line option of a settings field (``max_text_chars`` -> ``--max-text-chars``)."""
    return "--" + field.replace("_", "-")


def load_settings(overrides: Mapping[str, Any] | None = None) -> ServeSettings:
    """Build the settings from the environment plus ``overrides`` (command-line values; None means unset).

    Raises :class:`SettingsError` with one line per invalid setting.
    """
    given = {key: value for key, value in (overrides or {}).items() if value is not None}
    try:
        return ServeSettings(**given)
    except ValidationError as exc:
        raise SettingsError(describe_settings_errors(exc)) from None


def describe_settings_errors(exc: ValidationError) -> str:
    """One readable line per bad setting, naming the option and the variable that set it."""
    lines = []
    for error in exc.errors():
        field = str(error["loc"][0]) if error["loc"] else "settings"
        source = f"{option_name(field)} or {ENV_PREFIX}{field.upper()}"
        if error["type"] == "missing":
            if field == "model":
                lines.append(f"no model given: pass --model models/NAME or set {ENV_PREFIX}MODEL")
            else:
                lines.append(f"{field} is required ({source})")
            continue
        message = str(error["msg"]).removeprefix("Value error, ")
        shown = "" if field in ("api_key", "admin_key") else f", got {error.get('input')!r}"
        lines.append(f"invalid {field} ({source}): {message}{shown}")
    return "invalid server settings: " + "; ".join(lines)
