"""Settings: one frozen dataclass read from the environment in one place.

Each setting is declared once in :data:`SETTINGS` with its variable name and help text (the
README lists them all; a test checks that). :func:`load_settings` reports every missing or
invalid variable at once.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from teams_app.domain.schedule import valid_zone

REPO_ROOT = Path(__file__).resolve().parent.parent
MIN_GROUP_FLOOR = 3
BOT_FRAMEWORK_OPENID_METADATA = "https://login.botframework.com/v1/.well-known/openidconfiguration"
# Where Teams' Bot Connector lives (the activities' serviceUrl); sovereign clouds add theirs.
DEFAULT_CONNECTOR_HOSTS = ("smba.trafficmanager.net",)
_HOST_PATTERN = re.compile(
    r"^(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$"
)
_GUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
_PREFIX = re.compile(r"^[A-Za-z][A-Za-z0-9]{2,39}$")


class Environment(StrEnum):
    """Where the server runs."""

    PRODUCTION = "production"
    DEVELOPMENT = "development"


class ConfigError(Exception):
    """The environment does not describe a valid configuration; ``problems`` lists why."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("invalid configuration:\n  - " + "\n  - ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Settings:
    """The server's configuration. Secrets are kept out of ``repr``."""

    environment: Environment = Environment.PRODUCTION
    dev_allow_anonymous: bool = False
    bot_client_id: str = ""
    bot_client_secret: str = field(default="", repr=False)
    bot_tenant_id: str = ""
    storage_connection_string: str = field(default="", repr=False)
    table_prefix: str = "aiready"
    host: str = "127.0.0.1"
    port: int = 3978
    content_dir: Path = REPO_ROOT / "content"
    extra_content_dir: Path | None = None
    min_group_size: int = 5
    max_body_bytes: int = 256 * 1024
    log_level: str = "INFO"
    app_id: str = ""
    public_url: str = ""
    app_version: str = "1.0.0"
    developer_name: str = "AI Ready"
    website_url: str = ""
    privacy_url: str = ""
    terms_url: str = ""
    entra_authority: str = "https://login.microsoftonline.com"
    graph_url: str = "https://graph.microsoft.com"
    allowed_tenants: frozenset[str] = frozenset()
    dev_demo_user: tuple[str, str] | None = None
    roster_hours: int = 6
    bot_openid_metadata: str = BOT_FRAMEWORK_OPENID_METADATA
    connector_hosts: tuple[str, ...] = DEFAULT_CONNECTOR_HOSTS
    app_id_uri: str = ""
    log_format: str = "text"
    workers: int = 1
    applicationinsights_connection_string: str = field(default="", repr=False)
    send_rate: float = 20.0
    https_proxy: str = field(default="", repr=False)
    no_proxy: str = ""
    engine_in_web: bool = True
    default_time_zone: str = "UTC"
    dev_clock_speed: float = 1.0
    dev_clock_epoch: float = 0.0

    @property
    def has_bot_credentials(self) -> bool:
        """Whether the bot's Entra ID credentials are configured."""
        return bool(self.bot_client_id and self.bot_client_secret)

    @property
    def is_development(self) -> bool:
        """Whether this is a local development run."""
        return self.environment is Environment.DEVELOPMENT

    @property
    def tab_audiences(self) -> frozenset[str]:
        """The ``aud`` values a tab SSO token may carry: the client id, and the Application ID
        URI (configured, or ``api://<public host>/<client id>`` as the README sets it up)."""
        if not self.bot_client_id:
            return frozenset()
        uris = {self.bot_client_id}
        if self.app_id_uri:
            uris.add(self.app_id_uri)
        elif self.public_url:
            host = self.public_url.removeprefix("https://").split("/")[0]
            uris.add(f"api://{host}/{self.bot_client_id}")
        return frozenset(uris)


@dataclass(frozen=True, slots=True)
class Setting:
    """One environment variable: the field it sets, how to parse it, and what it means."""

    env: str
    attr: str
    help: str
    parse: Callable[[str], Any] = str


def _bool(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off", ""):
        return False
    raise ValueError("must be true or false")


def _port(text: str) -> int:
    value = int(text)
    if not 1 <= value <= 65535:
        raise ValueError("must be a port number from 1 to 65535")
    return value


def _positive(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise ValueError("must be a positive whole number")
    return value


def _dir(text: str) -> Path:
    path = Path(text).expanduser()
    if not path.is_dir():
        raise ValueError(f"folder {path} does not exist")
    return path


def _ids(text: str) -> frozenset[str]:
    values = frozenset(v.strip().lower() for v in text.split(",") if v.strip())
    if bad := sorted(v for v in values if not _GUID.match(v)):
        raise ValueError(f"not GUIDs: {', '.join(bad)}")
    return values


def _https(text: str) -> str:
    if not text.startswith("https://"):
        raise ValueError("must be an https:// URL")
    return text.rstrip("/")


def _demo_user(text: str) -> tuple[str, str]:
    tenant, _, user = text.partition("/")
    if not tenant or not user:
        raise ValueError("must be TENANT/USER, e.g. demo-tenant/demo-user")
    return tenant, user


def _hosts(text: str) -> tuple[str, ...]:
    hosts = tuple(dict.fromkeys(h.strip().lower() for h in text.split(",") if h.strip()))
    if bad := [h for h in hosts if not _HOST_PATTERN.match(h) or _is_ip(h)]:
        raise ValueError(f"not host names (use host or *.domain): {', '.join(bad)}")
    return hosts


def _rate(text: str) -> float:
    value = float(text)
    if not 0 < value <= 1000:
        raise ValueError("must be a number above 0 and at most 1000")
    return value


def _proxy(text: str) -> str:
    if not text.startswith(("http://", "https://")):
        raise ValueError("must be an http:// or https:// URL")
    return text


def _log_format(text: str) -> str:
    lowered = text.strip().lower()
    if lowered not in ("text", "json"):
        raise ValueError("must be text or json")
    return lowered


def _workers(text: str) -> int:
    value = int(text)
    if not 1 <= value <= 64:
        raise ValueError("must be a whole number from 1 to 64")
    return value


def _zone(text: str) -> str:
    if not valid_zone(text):
        raise ValueError("must be an IANA time zone name, like Europe/Berlin")
    return text


def _speed(text: str) -> float:
    value = float(text)
    if not 1 <= value <= 100_000:
        raise ValueError("must be a number from 1 to 100000")
    return value


def _epoch(text: str) -> float:
    value = float(text)
    if not 0 <= value < 10**11:
        raise ValueError("must be a Unix time in seconds")
    return value


def _level(text: str) -> str:
    upper = text.strip().upper()
    if upper not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        raise ValueError("must be DEBUG, INFO, WARNING or ERROR")
    return upper


SETTINGS: tuple[Setting, ...] = (
    Setting("AIREADY_ENV", "environment", "`production` (default) or `development`.", Environment),
    Setting(
        "AIREADY_DEV_ALLOW_ANONYMOUS",
        "dev_allow_anonymous",
        "Local development only: accept bot requests without a token (for the Agents "
        "Playground). Needs `AIREADY_ENV=development` and a loopback `AIREADY_HOST`; refused "
        "together with bot credentials; logged loudly at start-up.",
        _bool,
    ),
    Setting("AIREADY_BOT_CLIENT_ID", "bot_client_id", "The bot's Entra ID app (client) id."),
    Setting("AIREADY_BOT_CLIENT_SECRET", "bot_client_secret", "The bot's Entra ID client secret."),
    Setting("AIREADY_BOT_TENANT_ID", "bot_tenant_id", "The Entra ID tenant of the bot's app."),
    Setting(
        "AIREADY_STORAGE_CONNECTION_STRING",
        "storage_connection_string",
        "Azure Storage connection string (Azurite's for local runs).",
    ),
    Setting(
        "AIREADY_TABLE_PREFIX",
        "table_prefix",
        "Prefix of the table names (letters and digits; default `aiready`).",
    ),
    Setting("AIREADY_HOST", "host", "Address to listen on (default `127.0.0.1`)."),
    Setting("AIREADY_PORT", "port", "Port to listen on (default `3978`).", _port),
    Setting(
        "AIREADY_CONTENT_DIR",
        "content_dir",
        "Folder of the curriculum files (default: the repository's `content/`).",
        _dir,
    ),
    Setting(
        "AIREADY_EXTRA_CONTENT_DIR",
        "extra_content_dir",
        "Optional folder of your organisation's own tracks, same layout as `content/tracks`.",
        _dir,
    ),
    Setting(
        "AIREADY_MIN_GROUP_SIZE",
        "min_group_size",
        f"Smallest group a leader sees figures for (default 5, never below {MIN_GROUP_FLOOR}).",
        _positive,
    ),
    Setting(
        "AIREADY_MAX_BODY_BYTES",
        "max_body_bytes",
        "Largest accepted request body in bytes (default 262144).",
        _positive,
    ),
    Setting("AIREADY_LOG_LEVEL", "log_level", "DEBUG, INFO (default), WARNING or ERROR.", _level),
    Setting(
        "AIREADY_APP_ID",
        "app_id",
        "Teams app id (a GUID) for the app package; defaults to the bot's client id.",
    ),
    Setting(
        "AIREADY_PUBLIC_URL",
        "public_url",
        "Public https base URL of this server, for the app package.",
    ),
    Setting("AIREADY_APP_VERSION", "app_version", "App package version (default `1.0.0`)."),
    Setting("AIREADY_DEVELOPER_NAME", "developer_name", "Publisher name shown in Teams."),
    Setting("AIREADY_WEBSITE_URL", "website_url", "Publisher website (https) for the package."),
    Setting("AIREADY_PRIVACY_URL", "privacy_url", "Privacy statement URL (https)."),
    Setting("AIREADY_TERMS_URL", "terms_url", "Terms of use URL (https)."),
    Setting(
        "AIREADY_ENTRA_AUTHORITY",
        "entra_authority",
        "Entra ID authority host for tab sign-in (default `https://login.microsoftonline.com`).",
        _https,
    ),
    Setting(
        "AIREADY_GRAPH_URL",
        "graph_url",
        "Microsoft Graph base URL (default `https://graph.microsoft.com`).",
        _https,
    ),
    Setting(
        "AIREADY_ALLOWED_TENANTS",
        "allowed_tenants",
        "Comma-separated tenant ids whose users may sign in to the tabs (default: the bot's).",
        _ids,
    ),
    Setting(
        "AIREADY_DEV_DEMO_USER",
        "dev_demo_user",
        "Local development only: `TENANT/USER` whose data the tabs show in a plain browser, "
        "without Teams sign-in. Needs `AIREADY_ENV=development` and a loopback `AIREADY_HOST`; "
        "refused together with bot credentials.",
        _demo_user,
    ),
    Setting(
        "AIREADY_ROSTER_HOURS",
        "roster_hours",
        "How old a team's member list may get before it is refreshed from Graph (default 6).",
        _positive,
    ),
    Setting(
        "AIREADY_BOT_OPENID_METADATA",
        "bot_openid_metadata",
        "Where the Bot Framework channel publishes its token signing keys (default "
        f"`{BOT_FRAMEWORK_OPENID_METADATA}`; sovereign clouds have their own).",
        _https,
    ),
    Setting(
        "AIREADY_CONNECTOR_HOSTS",
        "connector_hosts",
        "Comma-separated hosts the bot may send to (the Bot Connector's `serviceUrl`): exact "
        "names or `*.domain` (default `smba.trafficmanager.net`; add e.g. "
        "`smba.infra.gcc.teams.microsoft.com` for GCC). Loopback is allowed in development only.",
        _hosts,
    ),
    Setting(
        "AIREADY_APP_ID_URI",
        "app_id_uri",
        "The tabs' Application ID URI, an accepted token audience besides the client id "
        "(default `api://<host of AIREADY_PUBLIC_URL>/<client id>`).",
    ),
    Setting(
        "AIREADY_LOG_FORMAT",
        "log_format",
        "`text` (default) or `json` (one JSON object per line, for log collectors).",
        _log_format,
    ),
    Setting(
        "AIREADY_WORKERS",
        "workers",
        "Server processes on this host (default 1); more than one runs under gunicorn.",
        _workers,
    ),
    Setting(
        "AIREADY_SEND_RATE",
        "send_rate",
        "Messages per second the bot sends to one tenant, all processes together (default 20; "
        "Teams documents 50 per app per tenant and throttles above it).",
        _rate,
    ),
    Setting(
        "AIREADY_ENGINE_IN_WEB",
        "engine_in_web",
        "Run the continuous-learning engine (planner and sender) inside the web process "
        "(default true). Set false where separate `python -m server worker` processes run it.",
        _bool,
    ),
    Setting(
        "AIREADY_DEFAULT_TIME_ZONE",
        "default_time_zone",
        "Time zone for learners whose zone Teams hasn't told yet (default `UTC`): proactive "
        "messages keep to 09:00-17:00 there.",
        _zone,
    ),
    Setting(
        "AIREADY_DEV_CLOCK_SPEED",
        "dev_clock_speed",
        "Local development only: run the engine's clock this many times faster (1440 makes a "
        "day pass in a minute), to watch reminders arrive. Needs `AIREADY_ENV=development`.",
        _speed,
    ),
    Setting(
        "AIREADY_DEV_CLOCK_EPOCH",
        "dev_clock_epoch",
        "Local development only: the Unix time the fast clock starts from, so the web app and "
        "the worker agree (`scripts/dev.sh` sets it; default: when the process starts).",
        _epoch,
    ),
    Setting(
        "HTTPS_PROXY",
        "https_proxy",
        "Proxy for outbound https calls (Bot Connector, Entra ID, Graph, storage), read once at "
        "start; loopback never goes through it.",
        _proxy,
    ),
    Setting(
        "NO_PROXY",
        "no_proxy",
        "Comma-separated hosts or `.domains` reached without the proxy.",
    ),
    Setting(
        "APPLICATIONINSIGHTS_CONNECTION_STRING",
        "applicationinsights_connection_string",
        "Azure Monitor (Application Insights) connection string: when set, traces and metrics "
        "are exported there.",
    ),
)


def settings_table() -> str:
    """The README's settings table, generated from :data:`SETTINGS`."""
    rows = ["| variable | meaning |", "| --- | --- |"]
    rows += [f"| `{s.env}` | {s.help} |" for s in SETTINGS]
    return "\n".join(rows)


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


# Settings that no longer exist, and what replaced them: refused rather than ignored.
RETIRED = {
    "AIREADY_LEADERS": "removed: it made people leaders of every team. A programme admin "
    "(the AIReady.Admin app role) now designates leaders per team with "
    "PUT /api/teams/{team}/leaders; team owners always lead their team",
}


def _parse(env: Mapping[str, str]) -> tuple[Settings, list[str]]:
    values: dict[str, Any] = {}
    problems = [f"{name}: {why}" for name, why in RETIRED.items() if env.get(name)]
    for setting in SETTINGS:
        raw = env.get(setting.env)
        if raw is None or raw.strip() == "":
            continue
        try:
            values[setting.attr] = setting.parse(raw.strip())
        except ValueError as err:
            problems.append(f"{setting.env}: {err}")
    return Settings(**values), problems


def load_settings(env: Mapping[str, str]) -> Settings:
    """Read and check every setting; raise :class:`ConfigError` listing all problems."""
    settings, problems = _parse(env)
    problems += _check(settings)
    if problems:
        raise ConfigError(problems)
    return settings


def load_package_settings(env: Mapping[str, str]) -> Settings:
    """The settings the app package needs: parsed like the server's, but without the
    server's own requirements (storage, credentials), which building a zip doesn't need."""
    settings, problems = _parse(env)
    if problems:
        raise ConfigError(problems)
    return settings


def _check(s: Settings) -> list[str]:
    problems = []
    if not s.storage_connection_string:
        problems.append("AIREADY_STORAGE_CONNECTION_STRING: required")
    if not _PREFIX.match(s.table_prefix):
        problems.append("AIREADY_TABLE_PREFIX: 3-40 letters and digits, starting with a letter")
    if s.min_group_size < MIN_GROUP_FLOOR:
        problems.append(f"AIREADY_MIN_GROUP_SIZE: must be at least {MIN_GROUP_FLOOR}")
    if s.dev_clock_speed != 1.0 and s.environment is not Environment.DEVELOPMENT:
        problems.append("AIREADY_DEV_CLOCK_SPEED: only allowed with AIREADY_ENV=development")
    for name, switched_on in (
        ("AIREADY_DEV_ALLOW_ANONYMOUS", s.dev_allow_anonymous),
        ("AIREADY_DEV_DEMO_USER", s.dev_demo_user is not None),
    ):
        if not switched_on:
            continue
        if s.environment is not Environment.DEVELOPMENT:
            problems.append(f"{name}: only allowed with AIREADY_ENV=development")
        if not _is_loopback(s.host):
            problems.append(f"{name}: only allowed on a loopback AIREADY_HOST")
        if s.has_bot_credentials or s.bot_client_secret:
            problems.append(f"{name}: unset it when bot credentials are configured")
    if not s.dev_allow_anonymous and not s.has_bot_credentials:
        problems.append(
            "bot credentials missing: set AIREADY_BOT_CLIENT_ID, AIREADY_BOT_CLIENT_SECRET and "
            "AIREADY_BOT_TENANT_ID (or, for local development only, AIREADY_ENV=development "
            "and AIREADY_DEV_ALLOW_ANONYMOUS=true)"
        )
    if s.app_id_uri and not s.app_id_uri.startswith("api://"):
        problems.append("AIREADY_APP_ID_URI: must start with api://")
    if s.has_bot_credentials or s.bot_client_id or s.bot_client_secret:
        for name, value in (
            ("AIREADY_BOT_CLIENT_ID", s.bot_client_id),
            ("AIREADY_BOT_TENANT_ID", s.bot_tenant_id),
        ):
            if not _GUID.match(value):
                problems.append(f"{name}: must be a GUID")
        if not s.bot_client_secret:
            problems.append("AIREADY_BOT_CLIENT_SECRET: required with AIREADY_BOT_CLIENT_ID")
    return problems
