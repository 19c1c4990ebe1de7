"""Tests for the Teams app package: server/package.py, the manifest template, the icons
and tools/validate_manifest.mjs (Microsoft's own validator, as an independent check)."""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import shutil
import subprocess
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from server.package import (
    PackageError,
    PackageOptions,
    build_package,
    locate_schema,
    manifest_messages,
    validate_localization,
    validate_manifest,
)
from teams_app import i18n
from teams_app.bot.commands import Command, parse_command

ROOT = Path(__file__).resolve().parent.parent
MANIFEST_DIR = ROOT / "manifest"
NODE_SCRIPT = ROOT / "tools" / "validate_manifest.mjs"
APP_ID = "6f1c7a52-3b0e-4d8a-9c41-2e5b7d9f0a13"
BOT_ID = "0a8e4d21-95c3-47f6-b2de-81c3f4a6e7b9"
SCHEMA_URL = "https://developer.microsoft.com/json-schemas/teams/v1.30/MicrosoftTeams.schema.json"
LOCALIZATION_SCHEMA_URL = SCHEMA_URL.replace(
    "MicrosoftTeams.schema", "MicrosoftTeams.Localization.schema"
)
COMMANDS = [
    "help",
    "start",
    "review",
    "challenge",
    "progress",
    "pulse",
    "settings",
    "pause",
    "my data",
    "delete my data",
]


def make_options(**changes: str) -> PackageOptions:
    options = PackageOptions(
        app_id=APP_ID,
        bot_id=BOT_ID,
        version="1.2.3",
        public_base_url="https://ai-ready.contoso.example:8443",
        developer_name="Contoso Learning",
        website_url="https://contoso.example/ai-ready",
        privacy_url="https://contoso.example/ai-ready/privacy",
        terms_url="https://contoso.example/ai-ready/terms",
    )
    return dataclasses.replace(options, **changes)


def build(
    tmp_path: Path, options: PackageOptions | None = None, manifest_dir: Path = MANIFEST_DIR
) -> Path:
    out_path = tmp_path / "out" / "ai-ready.zip"
    return build_package(options or make_options(), out_path, manifest_dir=manifest_dir)


def manifest_in(package: Path) -> dict[str, Any]:
    with zipfile.ZipFile(package) as archive:
        result: dict[str, Any] = json.loads(archive.read("manifest.json"))
    return result


def copy_manifest_dir(tmp_path: Path) -> Path:
    return Path(
        shutil.copytree(
            MANIFEST_DIR,
            tmp_path / "manifest",
            ignore=shutil.ignore_patterns("*.py", "__pycache__"),
        )
    )


def edit_template(manifest_dir: Path, edit: Callable[[dict[str, Any]], None]) -> None:
    path = manifest_dir / "manifest.template.json"
    template = json.loads(path.read_text(encoding="utf-8"))
    edit(template)
    path.write_text(json.dumps(template), encoding="utf-8")


def node_validate(path: Path) -> tuple[int, dict[str, Any]]:
    node = shutil.which("node")
    assert node, "Node.js is required (the project's toolchain uses npm)"
    result = subprocess.run(  # noqa: S603 - fixed script, our own temp file
        [node, str(NODE_SCRIPT), str(path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode in (0, 1), result.stderr
    report: dict[str, Any] = json.loads(result.stdout)
    return result.returncode, report


def pixels(image: Image.Image) -> list[bytes]:
    data = image.convert("RGBA").tobytes()
    return [data[i : i + 4] for i in range(0, len(data), 4)]


@pytest.fixture
def package(tmp_path: Path) -> Path:
    return build(tmp_path)


# --- the package -----------------------------------------------------------------------------


LOCALIZATIONS = ["de.json", "es.json", "fr.json", "ja.json"]


def test_package_is_a_zip_with_exactly_the_manifest_and_icons_at_its_root(package: Path) -> None:
    with zipfile.ZipFile(package) as archive:
        assert archive.testzip() is None
        expected = sorted(["color.png", "manifest.json", "outline.png", *LOCALIZATIONS])
        assert sorted(archive.namelist()) == expected
        assert archive.read("color.png") == (MANIFEST_DIR / "color.png").read_bytes()
        assert archive.read("outline.png") == (MANIFEST_DIR / "outline.png").read_bytes()


def test_the_store_listing_and_commands_come_in_every_interface_language(package: Path) -> None:
    """One localization file per language, valid against Microsoft's localization schema,
    translating the name, descriptions, tab names and every bot and message-extension
    command from the same catalogs the cards use (so the menu's words are the chat's)."""
    manifest = manifest_in(package)
    info = manifest["localizationInfo"]
    assert info["defaultLanguageTag"] == "en"
    assert sorted(a["file"] for a in info["additionalLanguages"]) == LOCALIZATIONS
    english = manifest_messages(manifest)
    assert {"name.short", "description.full", "staticTabs[0].name"} <= set(english)
    with zipfile.ZipFile(package) as archive:
        for name in LOCALIZATIONS:
            localization = json.loads(archive.read(name))
            assert validate_localization(localization) == [], name
            code = name.removesuffix(".json")
            gettext = i18n.translations(code).gettext
            assert set(localization) - {"$schema"} == set(english)
            for key, text in english.items():
                assert localization[key] == gettext(text)
            same = {key for key, text in english.items() if localization[key] == text}
            assert len(same) <= 0.1 * len(english), (name, same)
            command = "bots[0].commandLists[0].commands[1].title"
            assert localization[command] == gettext("start") != "start"


def test_a_localization_file_that_breaks_its_schema_is_reported() -> None:
    problems = validate_localization(
        {"$schema": LOCALIZATION_SCHEMA_URL, "name.short": "AI Ready", "bots[0].nothing": "y"}
    )
    assert any("bots[0].nothing" in p for p in problems)
    assert any("description.full" in p for p in problems)  # required


def test_built_manifest_passes_the_python_schema_check(package: Path) -> None:
    manifest = manifest_in(package)
    assert manifest["$schema"] == SCHEMA_URL
    assert manifest["manifestVersion"] == "1.30"
    assert validate_manifest(manifest) == []


def test_built_package_passes_microsofts_validator(package: Path, tmp_path: Path) -> None:
    code, report = node_validate(package)
    assert (code, report["valid"], report["errors"]) == (0, True, [])
    assert report["schema"].endswith("teams/v1.30/MicrosoftTeams.schema.json")
    extracted = tmp_path / "manifest.json"
    extracted.write_text(json.dumps(manifest_in(package)), encoding="utf-8")
    assert node_validate(extracted)[0] == 0


def test_fields_are_filled_from_the_options(package: Path) -> None:
    manifest = manifest_in(package)
    assert manifest["id"] == APP_ID
    assert manifest["version"] == "1.2.3"
    assert manifest["developer"] == {
        "name": "Contoso Learning",
        "websiteUrl": "https://contoso.example/ai-ready",
        "privacyUrl": "https://contoso.example/ai-ready/privacy",
        "termsOfUseUrl": "https://contoso.example/ai-ready/terms",
    }
    assert manifest["validDomains"] == ["ai-ready.contoso.example"]
    (bot,) = manifest["bots"]
    assert bot["botId"] == BOT_ID
    assert "{{" not in json.dumps(manifest)


def test_manifest_describes_the_app_as_specified(package: Path) -> None:
    manifest = manifest_in(package)
    assert manifest["name"] == {"short": "AI Ready", "full": "AI Ready: AI skills at work"}
    (bot,) = manifest["bots"]
    # Only the 1:1 chat: in a team or group chat the bot had nothing to offer.
    assert bot["scopes"] == ["personal"]
    assert (bot["supportsFiles"], bot["isNotificationOnly"]) == (False, False)
    (command_list,) = bot["commandLists"]
    assert command_list["scopes"] == ["personal"]
    assert [c["title"] for c in command_list["commands"]] == COMMANDS
    assert all(parse_command(c) is not Command.UNKNOWN for c in COMMANDS), "the bot knows them"
    assert all(0 < len(c["description"]) <= 128 for c in command_list["commands"])
    description = manifest["description"]
    assert len(description["short"]) <= 80
    assert len(description["full"]) <= 4000
    for promise in ("1:1 chat", "aggregates only", "at least 5 people", "What AI Ready stores"):
        assert promise in description["full"]


def test_the_message_extension_is_declared_on_the_bot_and_passes_both_checkers(
    package: Path, tmp_path: Path
) -> None:
    manifest = manifest_in(package)
    (extension,) = manifest["composeExtensions"]
    assert extension["botId"] == BOT_ID == manifest["bots"][0]["botId"]
    search, share = extension["commands"]
    assert (search["id"], search["type"], search["initialRun"]) == ("searchLessons", "query", True)
    assert search["context"] == ["compose", "commandBox"]
    (query,) = search["parameters"]
    assert (query["name"], query["title"]) == ("query", "Lesson or challenge")
    assert (share["id"], share["type"], share["fetchTask"]) == ("shareLesson", "action", False)
    (lesson,) = share["parameters"]
    assert (lesson["name"], lesson["inputType"], lesson["isRequired"]) == ("lesson", "text", True)
    (links,) = extension["messageHandlers"]
    assert links == {"type": "link", "value": {"domains": ["ai-ready.contoso.example"]}}
    assert links["value"]["domains"] == manifest["validDomains"], "one host, declared once"
    assert validate_manifest(manifest) == []
    extracted = tmp_path / "manifest.json"
    extracted.write_text(json.dumps(manifest), encoding="utf-8")
    code, report = node_validate(extracted)
    assert (code, report["errors"]) == (0, [])


def test_same_options_build_byte_identical_packages(tmp_path: Path) -> None:
    first = build(tmp_path / "a").read_bytes()
    assert build(tmp_path / "b").read_bytes() == first
    assert build(tmp_path / "c", make_options(version="1.2.4")).read_bytes() != first


# --- invalid options -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("app_id", "ai-ready", "is not a GUID"),
        ("bot_id", "0a8e4d2195c347f6b2de81c3f4a6e7b9", "is not a GUID"),
        ("bot_id", f" {BOT_ID}", "is not a GUID"),
        ("public_base_url", "http://ai-ready.contoso.example", "must be an https:// URL"),
        ("public_base_url", "https://ai-ready.contoso.example/bot", "must be https://host[:port]"),
        ("public_base_url", "https://ai-ready.contoso.example:99999", "is not a valid URL"),
        ("privacy_url", "http://contoso.example/privacy", "must be an https:// URL"),
        ("terms_url", "contoso.example/terms", "must be an https:// URL"),
        ("version", "1.0", "is not MAJOR.MINOR.PATCH"),
        ("version", "1.0.0-beta", "is not MAJOR.MINOR.PATCH"),
        ("version", "01.0.0", "is not MAJOR.MINOR.PATCH"),
        ("developer_name", "  ", "must be 1 to 32 characters"),
    ],
)
def test_invalid_options_are_refused_with_a_clear_message(
    tmp_path: Path, field: str, value: str, expected: str
) -> None:
    with pytest.raises(PackageError) as caught:
        build(tmp_path, make_options(**{field: value}))
    (problem,) = caught.value.problems
    assert problem.startswith(f"{field}: {value!r} {expected}")
    assert str(caught.value).startswith("invalid package options\n  - " + problem)
    assert not (tmp_path / "out" / "ai-ready.zip").exists()


def test_every_invalid_option_is_reported_at_once(tmp_path: Path) -> None:
    with pytest.raises(PackageError) as caught:
        build(tmp_path, make_options(app_id="x", public_base_url="http://e.com", version="v1"))
    fields = [problem.split(":")[0] for problem in caught.value.problems]
    assert fields == ["app_id", "version", "public_base_url"]


# --- broken manifests: both validators must say so, the Python one with the JSON path ---------


def _set(path: tuple[str | int, ...], value: Any) -> Callable[[dict[str, Any]], None]:
    def edit(manifest: dict[str, Any]) -> None:
        *parents, last = path
        node: Any = manifest
        for key in parents:
            node = node[key]
        node[last] = value

    return edit


def _delete(path: tuple[str | int, ...]) -> Callable[[dict[str, Any]], None]:
    def edit(manifest: dict[str, Any]) -> None:
        *parents, last = path
        node: Any = manifest
        for key in parents:
            node = node[key]
        del node[last]

    return edit


BROKEN = {
    "short description too long": (
        _set(("description", "short"), "x" * 81),
        "$.description.short: is 81 characters long; the maximum is 80",
        "/description/short",
    ),
    "bot without scopes": (
        _delete(("bots", 0, "scopes")),
        "$.bots[0]: 'scopes' is a required property",
        "/bots/0",
    ),
    "bot scope unknown": (
        _set(("bots", 0, "scopes"), ["personal", "everyone"]),
        "$.bots[0].scopes[1]: 'everyone' is not one of",
        "/bots/0/scopes/1",
    ),
    "bot id not a guid": (
        _set(("bots", 0, "botId"), "my-bot"),
        "$.bots[0].botId: 'my-bot' does not match",
        "/bots/0/botId",
    ),
    "manifest version differs from $schema": (
        _set(("manifestVersion",), "1.29"),
        "$.manifestVersion: '1.30' was expected",
        "/manifestVersion",
    ),
    "accent colour not hex": (
        _set(("accentColor",), "indigo"),
        "$.accentColor: 'indigo' does not match",
        "/accentColor",
    ),
    "message extension command of an unknown type": (
        _set(("composeExtensions", 0, "commands", 0, "type"), "search"),
        "$.composeExtensions[0].commands[0].type: 'search' is not one of",
        "/composeExtensions/0/commands/0/type",
    ),
    "message extension choices over the limit": (
        _set(
            ("composeExtensions", 0, "commands", 1, "parameters", 0, "choices"),
            [{"title": f"Lesson {i}", "value": f"lesson-{i}"} for i in range(11)],
        ),
        "$.composeExtensions[0].commands[1].parameters[0].choices: ",
        "/composeExtensions/0/commands/1/parameters/0/choices",
    ),
    "unknown top-level field": (
        _set(("tabs",), []),
        "$: Additional properties are not allowed ('tabs' was unexpected)",
        "additionalProperty",
    ),
}


@pytest.mark.parametrize("case", list(BROKEN))
def test_broken_manifest_is_reported_by_both_validators(
    package: Path, tmp_path: Path, case: str
) -> None:
    edit, python_problem, node_fragment = BROKEN[case]
    manifest = manifest_in(package)
    edit(manifest)
    problems = validate_manifest(manifest)
    assert any(p.startswith(python_problem) for p in problems), problems
    broken = tmp_path / "manifest.json"
    broken.write_text(json.dumps(manifest), encoding="utf-8")
    code, report = node_validate(broken)
    assert (code, report["valid"]) == (1, False)
    assert any(node_fragment in error for error in report["errors"]), report["errors"]


def test_manifest_without_official_schema_url_is_reported(package: Path) -> None:
    manifest = manifest_in(package)
    del manifest["$schema"]
    assert validate_manifest(manifest) == ["$: the manifest has no $schema URL"]
    manifest["$schema"] = "https://example.com/teams.schema.json"
    assert validate_manifest(manifest)[0].startswith("$.$schema: ")


def test_build_refuses_a_template_that_breaks_the_schema(tmp_path: Path) -> None:
    manifest_dir = copy_manifest_dir(tmp_path)
    edit_template(manifest_dir, _set(("description", "short"), "y" * 90))
    edit_template(manifest_dir, _delete(("bots", 0, "scopes")))
    with pytest.raises(PackageError) as caught:
        build(tmp_path, manifest_dir=manifest_dir)
    assert str(caught.value).startswith("the manifest does not match its schema")
    assert caught.value.problems == [
        "$.bots[0]: 'scopes' is a required property",
        "$.description.short: is 90 characters long; the maximum is 80",
    ]
    assert not (tmp_path / "out").exists()


def test_build_refuses_a_template_placeholder_nothing_fills(tmp_path: Path) -> None:
    manifest_dir = copy_manifest_dir(tmp_path)
    edit_template(manifest_dir, _set(("developer", "mpnId"), "{{mpn_id}}"))
    with pytest.raises(PackageError) as caught:
        build(tmp_path, manifest_dir=manifest_dir)
    assert caught.value.problems == ["$.developer.mpnId: '{{mpn_id}}'"]


def test_missing_schemas_tell_the_admin_to_run_npm_ci(tmp_path: Path) -> None:
    with pytest.raises(PackageError, match=r"run `npm ci`"):
        locate_schema(SCHEMA_URL, node_modules=tmp_path / "node_modules")


def test_schema_is_located_by_the_manifests_schema_version() -> None:
    localized = SCHEMA_URL.replace(".com/json-schemas", ".com/en-us/json-schemas")
    for url in (SCHEMA_URL, localized):
        assert locate_schema(url).parts[-2:] == ("v1.30", "MicrosoftTeams.schema.json")
    assert locate_schema(SCHEMA_URL.replace("v1.30", "v1.24")).parent.name == "v1.24"
    with pytest.raises(PackageError, match=r"v9\.99 is not in"):
        locate_schema(SCHEMA_URL.replace("v1.30", "v9.99"))


# --- icons -----------------------------------------------------------------------------------


def test_color_icon_is_192_square_opaque_and_in_colour() -> None:
    with Image.open(MANIFEST_DIR / "color.png") as image:
        assert (image.format, image.size) == ("PNG", (192, 192))
        colours = pixels(image)
    assert all(pixel[3] == 255 for pixel in colours)
    assert b"\x4f\x46\xe5\xff" in colours  # the accent colour
    assert b"\xff\xff\xff\xff" in colours  # the white mark


def test_outline_icon_is_32_square_white_on_transparent() -> None:
    with Image.open(MANIFEST_DIR / "outline.png") as image:
        assert (image.format, image.size) == ("PNG", (32, 32))
        outline = pixels(image)
    assert all(pixel[3] == 0 or pixel[:3] == b"\xff\xff\xff" for pixel in outline)
    assert outline[0][3] == 0  # the background is transparent
    assert sum(pixel[3] == 255 for pixel in outline) > 100  # and the mark is visible


def test_committed_icons_are_what_make_icons_draws(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location("make_icons", MANIFEST_DIR / "make_icons.py")
    assert spec and spec.loader
    make_icons = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(make_icons)
    make_icons.main(tmp_path)
    for name in ("color.png", "outline.png"):
        with Image.open(tmp_path / name) as drawn, Image.open(MANIFEST_DIR / name) as committed:
            fresh, saved = drawn.convert("RGBA").tobytes(), committed.convert("RGBA").tobytes()
        # A little slack: another Pillow version may round resampling differently.
        drift = max(abs(a - b) for a, b in zip(fresh, saved, strict=True))
        assert drift <= 4, f"{name} is stale: run python manifest/make_icons.py"


def test_build_refuses_icons_teams_would_reject(tmp_path: Path) -> None:
    manifest_dir = copy_manifest_dir(tmp_path)
    with Image.open(manifest_dir / "outline.png") as outline:
        tinted = outline.convert("RGBA")
    tinted.putpixel((0, 0), (255, 0, 0, 255))
    tinted.putpixel((1, 0), (250, 250, 250, 128))
    tinted.save(manifest_dir / "outline.png")
    Image.new("RGB", (100, 100), (79, 70, 229)).save(manifest_dir / "color.png")
    with pytest.raises(PackageError) as caught:
        build(tmp_path, manifest_dir=manifest_dir)
    assert caught.value.problems == [
        "color icon color.png: must be a 192x192 PNG, is a 100x100 PNG",
        "outline icon outline.png: 2 visible pixels are not white (#FFFFFF)",
    ]


def test_build_refuses_an_outline_icon_without_transparency(tmp_path: Path) -> None:
    manifest_dir = copy_manifest_dir(tmp_path)
    Image.new("RGB", (32, 32), (255, 255, 255)).save(manifest_dir / "outline.png")
    with pytest.raises(PackageError, match=r"outline icon outline\.png: has no transparent"):
        build(tmp_path, manifest_dir=manifest_dir)


def test_the_tabs_and_sso_point_at_the_public_url(package: Path) -> None:
    manifest = manifest_in(package)
    (learning, *builtin) = manifest["staticTabs"]
    # Teams fills {locale} with the user's language, so the page comes in it at once.
    assert learning["contentUrl"] == (
        "https://ai-ready.contoso.example:8443/tabs/my-learning?locale={locale}"
    )
    assert learning["websiteUrl"] == "https://ai-ready.contoso.example:8443/tabs/my-learning"
    assert learning["scopes"] == ["personal"]
    assert [t["entityId"] for t in builtin] == ["conversations", "about"]
    (team,) = manifest["configurableTabs"]
    assert team["configurationUrl"] == "https://ai-ready.contoso.example:8443/tabs/team/config"
    assert team["scopes"] == ["team"]
    assert manifest["webApplicationInfo"] == {
        "id": BOT_ID,
        "resource": f"api://ai-ready.contoso.example/{BOT_ID}",
    }


def test_the_package_command_names_the_settings_to_fix(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from server.cli import main

    env = {
        "AIREADY_BOT_CLIENT_ID": "not-a-guid",
        "AIREADY_PUBLIC_URL": "http://ai-ready.example.com",
        "AIREADY_DEVELOPER_NAME": "Contoso Learning",
    }
    assert main(["package", "--out", str(tmp_path / "x.zip")], env) == 2
    err = capsys.readouterr().err
    assert "AIREADY_BOT_CLIENT_ID: 'not-a-guid' is not a GUID" in err
    assert "AIREADY_PUBLIC_URL: 'http://ai-ready.example.com' must be an https:// URL" in err
    for internal in ("app_id:", "bot_id:", "public_base_url:"):
        assert internal not in err
    assert not (tmp_path / "x.zip").exists()


def test_the_publisher_name_comes_from_its_setting(tmp_path: Path) -> None:
    from server.cli import main

    guid = "11111111-1111-4111-8111-111111111111"
    env = {
        "AIREADY_BOT_CLIENT_ID": guid,
        "AIREADY_PUBLIC_URL": "https://ai-ready.example.com",
        "AIREADY_DEVELOPER_NAME": "Contoso Learning",
        "AIREADY_WEBSITE_URL": "https://contoso.example.com",
        "AIREADY_PRIVACY_URL": "https://contoso.example.com/privacy",
        "AIREADY_TERMS_URL": "https://contoso.example.com/terms",
    }
    out = tmp_path / "ai-ready.zip"
    assert main(["package", "--out", str(out)], env) == 0
    with zipfile.ZipFile(out) as package:
        manifest = json.loads(package.read("manifest.json"))
    assert manifest["developer"]["name"] == "Contoso Learning"
