"""The command line: ``python -m server [serve|worker|deliveries|package|content|settings]``."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

from server.config import (
    REPO_ROOT,
    SETTINGS,
    ConfigError,
    Settings,
    load_package_settings,
    load_settings,
    settings_table,
)
from server.logs import configure_logging

logger = logging.getLogger("server")


def _serve(settings: Settings) -> int:
    if settings.workers > 1:
        return _serve_with_gunicorn(settings)
    import asyncio

    from server.app import create_app
    from server.http_server import serve
    from teams_app.content_files import ContentError
    from teams_app.storage.ports import StorageError

    try:
        asyncio.run(serve(create_app(settings), settings.host, settings.port))
    except StorageError as err:
        print(f"AI Ready cannot start: storage did not answer ({err})", file=sys.stderr)
        return 3
    except ContentError as err:
        print(f"AI Ready cannot start: the content has problems ({err})", file=sys.stderr)
        return 3
    return 0


def _serve_with_gunicorn(settings: Settings) -> int:
    from gunicorn.app.base import BaseApplication

    from server.http_server import gunicorn_app, gunicorn_options

    class _Gunicorn(BaseApplication):  # type: ignore[misc]  # gunicorn ships no types
        def load_config(self) -> None:
            for name, value in gunicorn_options(settings).items():
                self.cfg.set(name, value)

        def load(self) -> Any:
            return gunicorn_app

    logger.info("AI Ready starting %d worker processes", settings.workers)
    _Gunicorn().run()
    return 0


def _content_check(content_dir: Path, extra: list[Path]) -> int:
    from teams_app.content_cues import analyse, bank
    from teams_app.content_files import check_content, content_warnings, load_curriculum

    problems = check_content(content_dir, extra)
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        print(f"{len(problems)} problem(s) found", file=sys.stderr)
        return 1
    curriculum = load_curriculum(content_dir, extra)
    questions = sum(len(lesson.questions) for lesson in curriculum.lessons.values())
    review = sum(len(lesson.review_questions) for lesson in curriculum.lessons.values())
    print(
        f"content OK: {len(curriculum.tracks)} tracks, {len(curriculum.lessons)} lessons, "
        f"{questions} lesson questions (+{review} for review), "
        f"{len(curriculum.assessment)} assessment items, {len(curriculum.challenges)} challenges"
    )
    print("surface cues (a guesser who never reads the lessons):")
    print("\n".join("  " + line for line in analyse(bank(curriculum)).lines()))
    for warning in content_warnings(curriculum, date.today()):
        print(f"warning: {warning}", file=sys.stderr)
    return 0


def _content_cues(content_dir: Path, tracks: list[str], assessment_only: bool) -> int:
    from teams_app.content_cues import analyse, bank
    from teams_app.content_files import ContentError, load_curriculum

    try:
        curriculum = load_curriculum(content_dir)
    except ContentError as err:
        print(err, file=sys.stderr)
        return 1
    questions = bank(curriculum)
    if tracks or assessment_only:
        lessons = {
            lesson_id for t in curriculum.tracks if t.id in tracks for lesson_id in t.lesson_ids
        }
        items = {item.id for item in curriculum.assessment} if assessment_only else set()
        questions = [q for q in questions if q.where.split("/")[0] in lessons or q.where in items]
    report = analyse(questions)
    print("\n".join(report.lines()))
    failures = report.failures()
    for failure in failures:
        print(f"FAIL: {failure}", file=sys.stderr)
    return 1 if failures else 0


# The setting behind each package option, so problems name what an admin can change.
PACKAGE_SETTINGS = {
    "app_id": "AIREADY_APP_ID (default: AIREADY_BOT_CLIENT_ID)",
    "bot_id": "AIREADY_BOT_CLIENT_ID",
    "version": "AIREADY_APP_VERSION",
    "public_base_url": "AIREADY_PUBLIC_URL",
    "developer_name": "AIREADY_DEVELOPER_NAME",
    "website_url": "AIREADY_WEBSITE_URL",
    "privacy_url": "AIREADY_PRIVACY_URL",
    "terms_url": "AIREADY_TERMS_URL",
}


def _package(out: Path, env: dict[str, str]) -> int:
    from server.package import PackageError, PackageOptions, build_package, check_options

    try:
        s = load_package_settings(env)
        options = PackageOptions(
            app_id=s.app_id or s.bot_client_id,
            bot_id=s.bot_client_id,
            version=s.app_version,
            public_base_url=s.public_url.rstrip("/"),
            developer_name=s.developer_name,
            website_url=s.website_url,
            privacy_url=s.privacy_url,
            terms_url=s.terms_url,
        )
        if problems := check_options(options):
            named = []
            for problem in problems:
                field, _, rest = problem.partition(": ")
                named.append(f"{PACKAGE_SETTINGS.get(field, field)}: {rest}")
            raise PackageError("invalid settings for the app package", named)
        path = build_package(options, out, manifest_dir=REPO_ROOT / "manifest")
    except (ConfigError, PackageError) as err:
        print(f"cannot build the app package: {err}", file=sys.stderr)
        return 2
    print(f"app package written to {path}")
    return 0


def _import_gift(path: Path) -> int:
    from teams_app.gift import GiftErrors, parse_gift, questions_to_lesson_yaml

    try:
        questions = parse_gift(path.read_text(encoding="utf-8"), source=str(path))
    except GiftErrors as err:
        print(err, file=sys.stderr)
        return 1
    except OSError as err:
        print(f"cannot read {path}: {err.strerror}", file=sys.stderr)
        return 2
    print(questions_to_lesson_yaml(questions), end="")
    return 0


def _export_gift(lesson_ids: list[str], assessment: bool, content_dir: Path) -> int:
    from teams_app.content_files import ContentError, load_curriculum
    from teams_app.gift import to_gift

    try:
        curriculum = load_curriculum(content_dir)
    except ContentError as err:
        print(err, file=sys.stderr)
        return 1
    pairs = [(item.id, item.question) for item in curriculum.assessment] if assessment else []
    for lesson_id in lesson_ids:
        lesson = curriculum.lesson(lesson_id)
        if lesson is None:
            print(f"no lesson {lesson_id!r}", file=sys.stderr)
            return 2
        pairs += [(f"{lesson.id}-{q.id}", q) for q in lesson.questions]
    if not pairs:
        print("nothing to export: name --lesson ID (repeatable) or --assessment", file=sys.stderr)
        return 2
    print(to_gift(pairs), end="")
    return 0


def _demo_seed(env: dict[str, str]) -> int:
    import asyncio

    from server.demo import seed_demo_team

    try:
        settings = load_settings(env)
        size = asyncio.run(seed_demo_team(settings))
    except (ConfigError, ValueError) as err:
        print(f"cannot seed demo data: {err}", file=sys.stderr)
        return 2
    print(f"demo team written: {size} members (made-up figures)")
    return 0


def _settings_help(markdown: bool) -> int:
    if markdown:
        print(settings_table())
        return 0
    for setting in SETTINGS:
        print(f"{setting.env}\n    {setting.help}")
    return 0


def main(argv: Sequence[str] | None = None, env: dict[str, str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    environ = dict(os.environ if env is None else env)
    parser = argparse.ArgumentParser(prog="python -m server", description="AI Ready server")
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("serve", help="run the server (the default)")
    package = sub.add_parser("package", help="build the Teams app package (zip)")
    package.add_argument("--out", type=Path, default=REPO_ROOT / "build" / "ai-ready.zip")
    content = sub.add_parser("content", help="curriculum tools")
    content_sub = content.add_subparsers(dest="content_command", required=True)
    check = content_sub.add_parser("check", help="validate every content file")
    check.add_argument("--dir", type=Path, default=None, help="content folder")
    cues = content_sub.add_parser(
        "cues", help="how far a guesser who never reads the lessons beats chance"
    )
    cues.add_argument("--dir", type=Path, default=None, help="content folder")
    cues.add_argument("--track", action="append", default=[], help="only this track (repeatable)")
    cues.add_argument("--assessment", action="store_true", help="only the assessment bank")
    gift_in = content_sub.add_parser(
        "import-gift", help="convert Moodle GIFT questions to a lesson's questions: YAML"
    )
    gift_in.add_argument("file", type=Path)
    gift_out = content_sub.add_parser("export-gift", help="write questions as Moodle GIFT")
    gift_out.add_argument("--lesson", action="append", default=[], help="lesson id (repeatable)")
    gift_out.add_argument("--assessment", action="store_true", help="the assessment bank")
    settings_cmd = sub.add_parser("settings", help="list every setting with its help")
    settings_cmd.add_argument(
        "--markdown", action="store_true", help="as the README's table (paste it there)"
    )
    messages = sub.add_parser("messages", help="the interface's message catalogs")
    messages_sub = messages.add_subparsers(dest="messages_command", required=True)
    messages_sub.add_parser(
        "extract", help="collect every message into messages.pot and merge it into each catalog"
    )
    messages_sub.add_parser("check", help="fail if a catalog is out of date or incomplete")
    sub.add_parser("worker", help="run the continuous-learning engine (planner and sender)")
    deliveries = sub.add_parser("deliveries", help="per-campaign delivery counts")
    deliveries.add_argument("--campaign", default=None, help="only this campaign")
    deliveries.add_argument("--json", action="store_true", help="as JSON")
    demo = sub.add_parser("demo", help="local development helpers")
    demo_sub = demo.add_subparsers(dest="demo_command", required=True)
    demo_sub.add_parser("seed", help="write a made-up team for the demo user (development only)")
    args = parser.parse_args(argv)

    if args.command == "settings":
        return _settings_help(args.markdown)
    if args.command == "demo":
        return _demo_seed(environ)
    if args.command == "content" and args.content_command == "import-gift":
        return _import_gift(args.file)
    if args.command == "content":
        content_dir = getattr(args, "dir", None) or Path(
            environ.get("AIREADY_CONTENT_DIR") or REPO_ROOT / "content"
        )
        if args.content_command == "cues":
            return _content_cues(content_dir, args.track, args.assessment)
        if args.content_command == "export-gift":
            return _export_gift(args.lesson, args.assessment, content_dir)
        extra = environ.get("AIREADY_EXTRA_CONTENT_DIR")
        return _content_check(content_dir, [Path(extra)] if extra else [])
    if args.command == "messages":
        return _messages(args.messages_command)
    if args.command == "package":
        configure_logging("INFO")
        return _package(args.out, environ)
    try:
        settings = load_settings(environ)
    except ConfigError as err:
        print(f"AI Ready cannot start: {err}", file=sys.stderr)
        return 2
    configure_logging(settings.log_level, settings.log_format)
    if args.command == "worker":
        return _engine(settings, None)
    if args.command == "deliveries":
        return _engine(settings, args)
    return _serve(settings)


def _messages(command: str) -> int:
    from server import messages

    if command == "extract":
        for line in messages.update():
            print(line)
        return 0
    problems = messages.check()
    for problem in problems:
        print(problem, file=sys.stderr)
    print(f"{len(problems)} problem(s)" if problems else "catalogs OK", file=sys.stderr)
    return 1 if problems else 0


def _engine(settings: Settings, report: argparse.Namespace | None) -> int:
    """Run the worker, or (with ``report``'s arguments) print the delivery report."""
    import asyncio

    from server.worker import delivery_report, print_report, run_worker
    from teams_app.storage.ports import StorageError

    try:
        if report is None:
            asyncio.run(run_worker(settings))
        else:
            print_report(asyncio.run(delivery_report(settings, report.campaign)), report.json)
    except StorageError as err:
        print(f"AI Ready cannot reach its storage ({err})", file=sys.stderr)
        return 3
    return 0
