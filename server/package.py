"""Build the sideloadable Teams app package: ``manifest.json`` plus two icons in a zip.

``manifest/manifest.template.json`` holds what does not depend on the deployment;
values like ``"{{app_id}}"`` mark the fields :func:`fill_manifest` assigns on the
parsed JSON (never by text substitution); a placeholder left over fails the build.
To add a part (tabs, ``webApplicationInfo``, the message extension): put it in the template, add the
options it needs and append a filler to ``_FILLERS``.

The manifest is validated offline against Microsoft's schema as bundled by npm
``@microsoft/app-manifest`` (``npm ci``). Those schemas say draft-04 but also use
``const``, ``if``/``then`` and an ECMAScript-only regex, so the validator is
draft-04 plus those keywords, and a pattern Python cannot compile is reported as a
problem rather than skipped.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import re
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jsonschema
from jsonschema import Draft4Validator, Draft6Validator, Draft7Validator, ValidationError
from PIL import Image

logger = logging.getLogger(__name__)

TEMPLATE_NAME = "manifest.template.json"
NODE_MODULES = Path(__file__).resolve().parent.parent / "node_modules"
ICON_SIZES = {"color": (192, 192), "outline": (32, 32)}

_GUID = re.compile(r"[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")
_VERSION = re.compile(r"(?:0|[1-9][0-9]*)\.(?:0|[1-9][0-9]*)\.(?:0|[1-9][0-9]*)")
_SCHEMA_URL = re.compile(
    r"https://developer\.microsoft\.com/(?:[a-z]{2}(?:-[a-z]{2})?/)?"
    r"json-schemas/teams/(v[0-9]+\.[0-9]+|vDevPreview)/MicrosoftTeams\.schema\.json"
)
_EXAMPLE_GUID = "1b4e28ba-2fa1-11d2-883f-0016d3cca427"
_PLACEHOLDER = re.compile(r"\{\{.*?\}\}")
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)


class PackageError(Exception):
    """The package cannot be built; the message lists every problem found."""

    def __init__(self, summary: str, problems: list[str] | None = None) -> None:
        self.problems = list(problems or [])
        lines = [summary, *(f"  - {problem}" for problem in self.problems)]
        super().__init__("\n".join(lines))


@dataclass(frozen=True)
class PackageOptions:
    """What varies between deployments.

    ``app_id`` is the Teams app id and ``bot_id`` the bot's Entra app (client)
    id, both GUIDs; ``version`` is MAJOR.MINOR.PATCH and must grow with every
    upload; ``public_base_url`` is ``https://host[:port]`` where the app is
    served; the developer fields are shown on the app's details page.
    """

    app_id: str
    bot_id: str
    version: str
    public_base_url: str
    developer_name: str
    website_url: str
    privacy_url: str
    terms_url: str


def check_options(options: PackageOptions) -> list[str]:
    """Return every problem with ``options``; empty when they are usable."""
    problems: list[str] = []
    for field in ("app_id", "bot_id"):
        value = getattr(options, field)
        if not _GUID.fullmatch(value):
            problems.append(f"{field}: {value!r} is not a GUID (like {_EXAMPLE_GUID})")
    if not _VERSION.fullmatch(options.version):
        problems.append(f"version: {options.version!r} is not MAJOR.MINOR.PATCH (like 1.0.0)")
    name = options.developer_name
    if not name.strip() or len(name) > 32:
        problems.append(f"developer_name: {name!r} must be 1 to 32 characters")
    for field in ("public_base_url", "website_url", "privacy_url", "terms_url"):
        problem = _https_problem(getattr(options, field), origin_only=field == "public_base_url")
        if problem:
            problems.append(f"{field}: {problem}")
    return problems


def _https_problem(url: str, *, origin_only: bool) -> str | None:
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError:
        return f"{url!r} is not a valid URL"
    if parts.scheme != "https" or not parts.hostname:
        return f"{url!r} must be an https:// URL with a host name"
    if parts.username or parts.password:
        return f"{url!r} must not contain credentials"
    if origin_only and (parts.path not in ("", "/") or parts.query or parts.fragment):
        return f"{url!r} must be https://host[:port], without a path, query or fragment"
    return None


def _fill_app(manifest: dict[str, Any], options: PackageOptions) -> None:
    manifest.update(id=options.app_id, version=options.version)
    manifest["developer"].update(
        name=options.developer_name,
        websiteUrl=options.website_url,
        privacyUrl=options.privacy_url,
        termsOfUseUrl=options.terms_url,
    )


def _fill_bot(manifest: dict[str, Any], options: PackageOptions) -> None:
    manifest["bots"][0]["botId"] = options.bot_id


def _fill_domains(manifest: dict[str, Any], options: PackageOptions) -> None:
    manifest["validDomains"] = [urlsplit(options.public_base_url).hostname]


def _fill_tabs(manifest: dict[str, Any], options: PackageOptions) -> None:
    base = options.public_base_url.rstrip("/")
    for tab in manifest.get("staticTabs", []):
        for field in ("contentUrl", "websiteUrl"):
            if field in tab:
                tab[field] = tab[field].replace("{{public_url}}", base)
    for tab in manifest.get("configurableTabs", []):
        tab["configurationUrl"] = tab["configurationUrl"].replace("{{public_url}}", base)


def _fill_sso(manifest: dict[str, Any], options: PackageOptions) -> None:
    # Tab SSO: the bot's Entra app exposes api://<host>/<client id> with access_as_user.
    host = urlsplit(options.public_base_url).hostname
    manifest["webApplicationInfo"] = {
        "id": options.bot_id,
        "resource": f"api://{host}/{options.bot_id}",
    }


def _fill_compose_extension(manifest: dict[str, Any], options: PackageOptions) -> None:
    # The message extension runs on the bot; links to the app's own host unfurl.
    host = urlsplit(options.public_base_url).hostname
    for extension in manifest.get("composeExtensions", []):
        extension["botId"] = options.bot_id
        for handler in extension.get("messageHandlers", []):
            if handler["type"] == "link":
                handler["value"]["domains"] = [host]


_Filler = Callable[[dict[str, Any], PackageOptions], None]
_FILLERS: tuple[_Filler, ...] = (
    _fill_app,
    _fill_bot,
    _fill_domains,
    _fill_tabs,
    _fill_sso,
    _fill_compose_extension,
)


def fill_manifest(template: dict[str, Any], options: PackageOptions) -> dict[str, Any]:
    """Return a copy of ``template`` with every deployment field set from ``options``."""
    manifest: dict[str, Any] = json.loads(json.dumps(template))  # deep copy of plain JSON
    try:
        for filler in _FILLERS:
            filler(manifest, options)
    except (KeyError, IndexError, TypeError) as exc:
        raise PackageError(f"the manifest template lacks a field to fill: {exc!r}") from exc
    leftovers = [f"{at}: {text!r}" for at, text in _strings(manifest) if _PLACEHOLDER.search(text)]
    _raise_if("the manifest template has placeholders nothing fills", leftovers)
    return manifest


def _strings(node: Any, path: str = "$") -> Iterator[tuple[str, str]]:
    if isinstance(node, str):
        yield path, node
    elif isinstance(node, dict):
        for key, value in node.items():
            yield from _strings(value, f"{path}.{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _strings(value, f"{path}[{index}]")


def locate_schema(schema_url: str, node_modules: Path = NODE_MODULES) -> Path:
    """Return the bundled schema file for a manifest's ``$schema`` URL (its version).

    Raises :class:`PackageError` for a URL that is not an official Teams schema,
    a missing ``@microsoft/app-manifest`` or a version it does not bundle.
    """
    match = _SCHEMA_URL.fullmatch(schema_url)
    if not match:
        raise PackageError(f"$schema {schema_url!r} is not an official Teams manifest schema URL")
    schemas = node_modules / "@microsoft" / "app-manifest" / "build" / "json-schemas" / "teams"
    if not schemas.is_dir():
        raise PackageError(
            f"the Teams manifest schemas are missing ({schemas}): "
            f"run `npm ci` in {node_modules.parent} to install @microsoft/app-manifest"
        )
    path = schemas / match.group(1) / "MicrosoftTeams.schema.json"
    if not path.is_file():
        bundled = ", ".join(sorted(p.name for p in schemas.iterdir() if p.is_dir()))
        raise PackageError(f"schema {match.group(1)} is not in {schemas} (bundled: {bundled})")
    return path


def _pattern(validator: Any, pattern: str, instance: Any, _: object) -> Iterator[ValidationError]:
    """``pattern`` that reports, instead of crashing on, regexes Python cannot compile."""
    if validator.is_type(instance, "string"):
        try:
            matched = re.search(pattern, instance)  # re caches compiled patterns
        except re.error:
            yield ValidationError(f"cannot check: schema pattern {pattern!r} is not a Python regex")
            return
        if not matched:
            yield ValidationError(f"{_clip(instance)!r} does not match {pattern!r}")


_ManifestValidator = jsonschema.validators.extend(  # type: ignore[no-untyped-call]
    Draft4Validator,
    {
        "const": Draft6Validator.VALIDATORS["const"],
        "if": Draft7Validator.VALIDATORS["if"],
        "pattern": _pattern,
    },
)


@functools.cache
def _validator_for(schema_path: Path) -> Any:
    schema = json.loads(schema_path.read_text(encoding="utf-8-sig"))
    return _ManifestValidator(schema, format_checker=Draft4Validator.FORMAT_CHECKER)


def validate_manifest(manifest: dict[str, Any]) -> list[str]:
    """Return the manifest's schema problems as ``"<JSON path>: <problem>"``; empty when valid.

    The schema is the one named by the manifest's ``$schema``. Raises
    :class:`PackageError` only when the schemas are not installed.
    """
    schema_url = manifest.get("$schema")
    if not isinstance(schema_url, str):
        return ["$: the manifest has no $schema URL"]
    if not _SCHEMA_URL.fullmatch(schema_url):
        return [f"$.$schema: {schema_url!r} is not an official Teams manifest schema URL"]
    validator = _validator_for(locate_schema(schema_url))
    return sorted(f"{e.json_path}: {_describe(e)}" for e in validator.iter_errors(manifest))


def _describe(error: ValidationError) -> str:
    if error.validator == "maxLength":
        length = len(error.instance) if isinstance(error.instance, str) else "?"
        return f"is {length} characters long; the maximum is {error.validator_value}"
    if error.validator in ("anyOf", "oneOf") and error.context:
        best = jsonschema.exceptions.best_match(error.context)
        return f"matches none of the allowed forms ({_describe(best)})"
    return _clip(error.message, 300)


def _clip(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def check_icons(manifest_dir: Path, manifest: dict[str, Any]) -> list[str]:
    """Return problems with the icons the manifest names; empty when Teams will accept them."""
    problems: list[str] = []
    for kind, (width, height) in ICON_SIZES.items():
        name = manifest["icons"][kind]
        where = f"{kind} icon {name}"
        if Path(name).name != name or not (manifest_dir / name).is_file():
            problems.append(f"{where}: not a file in {manifest_dir}")
            continue
        try:
            with Image.open(manifest_dir / name) as image:
                image.load()
        except OSError as exc:
            problems.append(f"{where}: unreadable ({exc})")
            continue
        if image.format != "PNG" or image.size != (width, height):
            size = "x".join(map(str, image.size))
            problems.append(f"{where}: must be a {width}x{height} PNG, is a {size} {image.format}")
        elif kind == "outline":
            problems.extend(f"{where}: {problem}" for problem in _outline_problems(image))
    return problems


def _outline_problems(image: Image.Image) -> list[str]:
    """Teams wants white on a fully transparent background: any visible pixel must be white."""
    data = image.convert("RGBA").tobytes()
    pixels = [data[i : i + 4] for i in range(0, len(data), 4)]
    coloured = sum(1 for pixel in pixels if pixel[3] and pixel[:3] != b"\xff\xff\xff")
    problems = [f"{coloured} visible pixels are not white (#FFFFFF)"] if coloured else []
    if all(pixel[3] for pixel in pixels):
        problems.append("has no transparent background")
    if not any(pixel[3] for pixel in pixels):
        problems.append("is fully transparent")
    return problems


# The manifest fields a reader sees, as the localization files name them.
_LOCALIZED = re.compile(
    r"^(name\.(short|full)|description\.(short|full)|staticTabs\[\d+\]\.name"
    r"|bots\[0\]\.commandLists\[\d+\]\.commands\[\d+\]\.(title|description)"
    r"|composeExtensions\[0\]\.commands\[\d+\]\.(title|description"
    r"|parameters\[\d+\]\.(title|description)))$"
)


def manifest_messages(manifest: dict[str, Any]) -> dict[str, str]:
    """The manifest's text a reader sees, by localization key (``name.short``,
    ``staticTabs[0].name``, ...): the catalog messages of the app's store listing."""
    found: dict[str, str] = {}
    for path, text in _strings(manifest):
        key = path.removeprefix("$.")
        if _LOCALIZED.match(key) and not _PLACEHOLDER.search(text):
            found[key] = text
    return found


def localization_files(manifest: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """One localization file per language of the catalogs (``de.json``, ...), each the
    manifest's reader-visible text translated; also sets the manifest's
    ``localizationInfo``. A field a catalog doesn't translate is given in English."""
    from teams_app import i18n  # the catalogs are only needed when packaging

    schema = manifest["$schema"].replace(
        "MicrosoftTeams.schema", "MicrosoftTeams.Localization.schema"
    )
    messages = manifest_messages(manifest)
    files: dict[str, dict[str, Any]] = {}
    for code in i18n.LANGUAGES:
        if code == i18n.SOURCE_LANGUAGE:
            continue
        gettext = i18n.translations(code).gettext
        files[f"{code}.json"] = {"$schema": schema} | {
            key: gettext(text) for key, text in messages.items()
        }
    manifest["localizationInfo"] = {
        "defaultLanguageTag": "en",
        "additionalLanguages": [
            {"languageTag": name.removesuffix(".json"), "file": name} for name in files
        ],
    }
    return files


def validate_localization(localization: dict[str, Any]) -> list[str]:
    """Every problem with one localization file against its official schema."""
    schema_path = locate_schema(
        localization["$schema"].replace(
            "MicrosoftTeams.Localization.schema", "MicrosoftTeams.schema"
        )
    ).with_name("MicrosoftTeams.Localization.schema.json")
    if not schema_path.exists():
        return [f"no localization schema next to {schema_path.parent}"]
    validator = _validator_for(schema_path)
    return [_describe(e) for e in sorted(validator.iter_errors(localization), key=str)]


def build_package(options: PackageOptions, out_path: Path, *, manifest_dir: Path) -> Path:
    """Fill, validate and zip the app package at ``out_path``; return ``out_path``.

    Raises :class:`PackageError` listing every problem with the options, the
    manifest (by JSON path) or the icons; nothing is written then.
    """
    _raise_if("invalid package options", check_options(options))
    template = json.loads((manifest_dir / TEMPLATE_NAME).read_text(encoding="utf-8"))
    manifest = fill_manifest(template, options)
    localizations = localization_files(manifest)
    _raise_if("the manifest does not match its schema", validate_manifest(manifest))
    for name, localization in localizations.items():
        _raise_if(f"{name} does not match its schema", validate_localization(localization))
    _raise_if("the icons are not valid for Teams", check_icons(manifest_dir, manifest))
    entries = {"manifest.json": json.dumps(manifest, indent=2, ensure_ascii=False).encode()}
    for name, localization in localizations.items():
        entries[name] = json.dumps(localization, indent=2, ensure_ascii=False).encode()
    for kind in ("color", "outline"):
        entries[manifest["icons"][kind]] = (manifest_dir / manifest["icons"][kind]).read_bytes()
    _write_zip(out_path, entries)
    logger.info("built Teams app package %s (version %s)", out_path, options.version)
    return out_path


def _raise_if(summary: str, problems: list[str]) -> None:
    if problems:
        raise PackageError(summary, problems)


def _write_zip(out_path: Path, entries: dict[str, bytes]) -> None:
    """Write atomically, with fixed timestamps so equal inputs give equal bytes."""
    out_path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp_name = tempfile.mkstemp(dir=out_path.parent, suffix=".zip.tmp")
    try:
        with os.fdopen(handle, "wb") as raw, zipfile.ZipFile(raw, "w") as archive:
            for name, data in entries.items():
                info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = 0o644 << 16
                archive.writestr(info, data)
        os.replace(temp_name, out_path)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise
