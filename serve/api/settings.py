"""The server's settings: one validated object read from ``NEWSDESK_*`` variables and the command line.

Command-line values win over the environment. ``newsdesk serve`` validates the
settings once in the parent process, then exports them as environment variables
so that every uvicorn worker builds the same object (see :meth:`ServeSettings.to_environment`).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ENV_PREFIX = "NEWSDESK_"
API_KEY_ENV = ENV_PREFIX + "API_KEY"
LogLevel = Literal["critical", "error", "warning", "info", "debug"]


class SettingsError(ValueError):
    """The settings are invalid; the message names each bad setting, its option and its variable."""


class ServeSettings(BaseSettings):
    """Everything ``newsdesk serve`` can be told, with limits checked on construction."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore", frozen=True)

    model: Path = Field(description="models/NAME (its current version is served) or one version folder")
    host: str = Field("127.0.0.1", min_length=1, description="interface to listen on")
    port: int = Field(8000, ge=1, le=65535, description="TCP port to listen on")
    workers: int = Field(1, ge=1, le=64, description="worker processes, each with its own copy of the model")
    threads: int = Field(
        2,
        ge=1,
        le=256,
        description="threads per worker that run model calls; they share one GIL, so more threads only "
        "time-slice requests (2 was fastest on BBC: one runs while the other's request is parsed and answered)",
    )
    api_key: SecretStr | None = Field(
        None, description="when set, every /v1 endpoint requires it ('Authorization: Bearer KEY' or 'X-API-Key: KEY')"
    )
    max_text_chars: int = Field(200_000, ge=1, description="longest accepted 'text' or 'title', in characters (413)")
    max_html_chars: int = Field(
        2_000_000, ge=1, description="longest accepted 'text' when it is an HTML page, in characters (413)"
    )
    max_body_bytes: int = Field(2 * 1024 * 1024, ge=1024, description="largest accepted request body, in bytes (413)")
    max_batch_size: int = Field(256, ge=1, description="most articles in one /v1/predict/batch request (413)")
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

    @field_validator("api_key")
    @classmethod
    def _key_not_blank(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().strip():
            raise ValueError(f"{API_KEY_ENV} is set but empty; unset it to serve without a key, or set a real key")
        return value

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
        shown = "" if field == "api_key" else f", got {error.get('input')!r}"
        lines.append(f"invalid {field} ({source}): {message}{shown}")
    return "invalid server settings: " + "; ".join(lines)
