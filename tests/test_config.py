"""Settings: every problem reported at once, secure defaults, every setting documented."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from server.config import SETTINGS, ConfigError, Environment, load_settings, settings_table

REPO_ROOT = Path(__file__).resolve().parent.parent
STORAGE = {"AIREADY_STORAGE_CONNECTION_STRING": "UseDevelopmentStorage=true"}
CREDENTIALS = {
    "AIREADY_BOT_CLIENT_ID": "6f1c0f7e-1c2d-4c5e-9f00-123456789abc",
    "AIREADY_BOT_CLIENT_SECRET": "s3cret-value",
    "AIREADY_BOT_TENANT_ID": "11111111-1111-4111-8111-111111111111",
}


def test_production_is_the_default_and_needs_credentials() -> None:
    with pytest.raises(ConfigError) as err:
        load_settings(STORAGE)
    assert any("bot credentials missing" in p for p in err.value.problems)
    settings = load_settings({**STORAGE, **CREDENTIALS})
    assert settings.environment is Environment.PRODUCTION
    assert not settings.dev_allow_anonymous


def test_all_problems_are_reported_together() -> None:
    with pytest.raises(ConfigError) as err:
        load_settings(
            {
                "AIREADY_PORT": "99999",
                "AIREADY_MIN_GROUP_SIZE": "2",
                "AIREADY_BOT_CLIENT_ID": "not-a-guid",
                "AIREADY_TABLE_PREFIX": "bad prefix!",
                "AIREADY_DEV_ALLOW_ANONYMOUS": "maybe",
            }
        )
    text = str(err.value)
    for expected in (
        "AIREADY_PORT",
        "AIREADY_MIN_GROUP_SIZE",
        "AIREADY_BOT_CLIENT_ID: must be a GUID",
        "AIREADY_TABLE_PREFIX",
        "AIREADY_DEV_ALLOW_ANONYMOUS: must be true or false",
        "AIREADY_STORAGE_CONNECTION_STRING: required",
    ):
        assert expected in text


@pytest.mark.parametrize(
    ("extra", "problem"),
    [
        ({"AIREADY_DEV_ALLOW_ANONYMOUS": "true"}, "only allowed with AIREADY_ENV=development"),
        (
            {
                "AIREADY_ENV": "development",
                "AIREADY_DEV_ALLOW_ANONYMOUS": "true",
                "AIREADY_HOST": "0.0.0.0",  # noqa: S104 - checking it is refused
            },
            "only allowed on a loopback AIREADY_HOST",
        ),
        (
            {"AIREADY_ENV": "development", "AIREADY_DEV_ALLOW_ANONYMOUS": "true", **CREDENTIALS},
            "unset it when bot credentials are configured",
        ),
    ],
)
def test_anonymous_mode_needs_every_explicit_condition(extra: dict[str, str], problem: str) -> None:
    with pytest.raises(ConfigError) as err:
        load_settings({**STORAGE, **extra})
    assert any(problem in p for p in err.value.problems)


def test_secrets_stay_out_of_repr() -> None:
    settings = load_settings({**STORAGE, **CREDENTIALS})
    assert "s3cret-value" not in repr(settings)
    assert "UseDevelopmentStorage" not in repr(settings)


def test_the_readme_settings_table_is_the_generated_one_word_for_word() -> None:
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    start = readme.index("<!-- settings:start")
    table = readme[readme.index("\n", start) + 1 : readme.index("<!-- settings:end -->")]
    assert table.rstrip("\n") == settings_table(), (
        "paste `python -m server settings --markdown` into the README"
    )
    assert all(f"`{s.env}`" in table for s in SETTINGS)


def _run_server(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("AIREADY_")}
    return subprocess.run(
        [sys.executable, "-m", "server"],
        cwd=REPO_ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_the_server_refuses_to_start_in_production_without_credentials() -> None:
    result = _run_server(STORAGE)
    assert result.returncode == 2
    assert "AI Ready cannot start" in result.stderr
    assert "bot credentials missing" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_server_names_bad_settings_without_echoing_secrets() -> None:
    result = _run_server({**STORAGE, **CREDENTIALS, "AIREADY_BOT_TENANT_ID": "nope"})
    assert result.returncode == 2
    assert "AIREADY_BOT_TENANT_ID: must be a GUID" in result.stderr
    assert "s3cret-value" not in result.stderr


def test_the_server_names_unreachable_storage_at_start_up_without_a_traceback() -> None:
    closed = (
        "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey="
        + (
            "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
        )
        + ";TableEndpoint=http://127.0.0.1:9/devstoreaccount1;"
    )
    started = time.monotonic()
    result = _run_server({**CREDENTIALS, "AIREADY_STORAGE_CONNECTION_STRING": closed})
    assert result.returncode == 3
    assert "storage did not answer" in result.stderr
    assert "Traceback" not in result.stderr
    assert time.monotonic() - started < 30


@pytest.mark.parametrize(
    ("extra", "problem"),
    [
        ({"AIREADY_DEV_DEMO_USER": "t/u"}, "AIREADY_DEV_DEMO_USER: only allowed with AIREADY_ENV"),
        (
            {
                "AIREADY_ENV": "development",
                "AIREADY_DEV_DEMO_USER": "t/u",
                "AIREADY_HOST": "10.0.0.5",
            },
            "AIREADY_DEV_DEMO_USER: only allowed on a loopback AIREADY_HOST",
        ),
        (
            {"AIREADY_ENV": "development", "AIREADY_DEV_DEMO_USER": "t/u", **CREDENTIALS},
            "AIREADY_DEV_DEMO_USER: unset it when bot credentials are configured",
        ),
        ({"AIREADY_CONNECTOR_HOSTS": "127.0.0.1"}, "AIREADY_CONNECTOR_HOSTS: not host names"),
        (
            {"AIREADY_CONNECTOR_HOSTS": "evil.example/path"},
            "AIREADY_CONNECTOR_HOSTS: not host names",
        ),
        ({"AIREADY_APP_ID_URI": "https://x"}, "AIREADY_APP_ID_URI: must start with api://"),
        ({"AIREADY_SEND_RATE": "0"}, "AIREADY_SEND_RATE: must be a number above 0"),
        ({"AIREADY_WORKERS": "0"}, "AIREADY_WORKERS: must be a whole number from 1 to 64"),
    ],
)
def test_switches_and_lists_that_would_weaken_security_are_refused(
    extra: dict[str, str], problem: str
) -> None:
    with pytest.raises(ConfigError) as err:
        load_settings(
            {**STORAGE, **CREDENTIALS, **extra}
            if "AIREADY_ENV" not in extra
            else {**STORAGE, **extra}
        )
    assert any(problem in p for p in err.value.problems), err.value.problems


def test_the_tab_audiences_are_the_client_id_and_one_application_id_uri() -> None:
    settings = load_settings(
        {**STORAGE, **CREDENTIALS, "AIREADY_PUBLIC_URL": "https://ai-ready.contoso.com/"}
    )
    client = CREDENTIALS["AIREADY_BOT_CLIENT_ID"]
    assert settings.tab_audiences == {client, f"api://ai-ready.contoso.com/{client}"}
    explicit = load_settings({**STORAGE, **CREDENTIALS, "AIREADY_APP_ID_URI": f"api://x/{client}"})
    assert explicit.tab_audiences == {client, f"api://x/{client}"}
