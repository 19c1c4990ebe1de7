"""Locale choice, catalogs, plurals, formats and the pseudo-locale (no storage needed)."""

from __future__ import annotations

import json
import re
import shutil
from datetime import date
from pathlib import Path

import pytest

from server import messages
from teams_app import i18n
from teams_app.cards import CardRenderer, card_messages
from teams_app.i18n import _, ngettext

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("tags", "code", "tag"),
    [
        (("de-AT",), "de", "de-AT"),
        (("DE_de",), "de", "de-DE"),
        (("ja",), "ja", "ja-JP"),
        (("en-GB",), "en", "en-GB"),
        (("pt-BR",), "en", "en-GB"),  # no Portuguese catalog: our (British) English
        (("pt-BR", "fr-CA"), "fr", "fr-CA"),  # the activity's locale first, then the next
        (("fr-CA,fr;q=0.9,en;q=0.8",), "fr", "fr-CA"),
        (("it-IT,es;q=0.5,de;q=0.7",), "de", "de-DE"),  # by weight, not order
        (("de;q=0,es",), "es", "es-ES"),  # q=0 means "not this"
        (("{locale}",), "en", "en-GB"),  # a placeholder a host didn't fill
        (('de"><script>alert(1)</script>',), "en", "en-GB"),  # it reaches <html lang="...">
        (("de-DE\r\nSet-Cookie: x=1",), "en", "en-GB"),  # and a Content-Language header
        (("de-" + "x" * 60,), "en", "en-GB"),  # over-long tags are ignored
        (("qps-ploc",), "qps-ploc", "en-US"),
        ((None, ""), "en", "en-GB"),
        (("en",), "en", "en-GB"),
        (("en-US",), "en", "en-US"),
    ],
)
def test_the_language_is_negotiated_from_tags_and_accept_language(
    tags: tuple[str | None, ...], code: str, tag: str
) -> None:
    language = i18n.negotiate(*tags)
    assert (language.code, language.tag) == (code, tag)


def test_the_catalogs_are_complete_current_and_keep_their_placeholders() -> None:
    problems = messages.check()
    assert problems == [], "\n".join(map(str, problems[:30]))


@pytest.mark.parametrize("code", [c for c in i18n.LANGUAGES if c != "en"])
def test_every_language_translates_the_interface(code: str) -> None:
    template = i18n.read_catalog(i18n.TEMPLATE)
    translated = i18n.translations(code)
    same = [
        m.id
        for m in template
        if isinstance(m.id, str) and m.id and translated.gettext(m.id) == m.id
    ]
    # Brand names, command words shown in bold and short codes may stay as they are; most
    # of the interface may not.
    assert len(same) < 0.15 * len(template), same[:40]


def test_each_catalog_has_its_languages_plural_rule() -> None:
    rule = {code: i18n.translations(code) for code in ("de", "fr", "es", "ja")}
    assert [rule["de"].plural(n) for n in (0, 1, 2)] == [1, 0, 1]  # type: ignore[attr-defined]
    # Spanish and French have a third form for round millions ("de millones", "de millions").
    assert [rule["es"].plural(n) for n in (0, 1, 2, 10**6)] == [2, 0, 2, 1]  # type: ignore[attr-defined]
    assert [rule["fr"].plural(n) for n in (0, 1, 2, 10**6)] == [0, 0, 2, 1]  # type: ignore[attr-defined]
    assert [rule["ja"].plural(n) for n in (0, 1, 2)] == [0, 0, 0]  # type: ignore[attr-defined]


def test_the_count_in_a_plural_is_formatted_for_the_locale() -> None:
    with i18n.using(i18n.negotiate("de-DE")):
        assert ngettext("{n} thing", "{n} things", 1234) == "1.234 things"
    with i18n.using(i18n.negotiate("en-US")):
        assert ngettext("{n} thing", "{n} things", 1) == "1 thing"


def test_japanese_has_one_plural_form_and_the_pages_agree() -> None:
    assert i18n.plural_categories("ja") == {"other": 0}
    assert i18n.plural_categories("fr") == {"one": 0, "many": 1, "other": 2}
    assert i18n.plural_categories("de") == {"one": 0, "other": 1}


def test_dates_numbers_and_hours_follow_the_full_locale() -> None:
    day = date(2026, 12, 3)
    expected = {
        "en-US": ("Dec 3", "1,234.5", "42%"),
        "en-GB": ("3 Dec", "1,234.5", "42%"),
        "de-DE": ("3. Dez.", "1.234,5", "42\xa0%"),
        "fr-FR": ("3 déc.", "1\u202f234,5", "42\xa0%"),
        "ja-JP": ("12月3日", "1,234.5", "42%"),
    }
    for tag, (when, number, share) in expected.items():
        with i18n.using(i18n.negotiate(tag)):
            assert (i18n.format_day(day), i18n.format_number(1234.5, 1)) == (when, number)
            assert i18n.format_share(0.42) == share


def test_the_language_is_per_task_and_restored() -> None:
    assert i18n.current() == i18n.ENGLISH
    with i18n.using(i18n.negotiate("de")):
        assert i18n.current().code == "de"
        with i18n.using(i18n.negotiate("ja")):
            assert i18n.current().code == "ja"
        assert i18n.current().code == "de"
    assert i18n.current() == i18n.ENGLISH


def test_pseudo_translation_keeps_placeholders_and_is_forty_percent_longer() -> None:
    text = "Hi ${name}, {n} lessons <b>left</b> for %(who)s"
    out = i18n.pseudo(text)
    assert out.startswith(i18n.PSEUDO_OPEN) and out.endswith(i18n.PSEUDO_CLOSE)
    assert i18n.placeholders(out) == i18n.placeholders(text)
    assert "<b>" in out and "</b>" in out
    kept = re.sub(r"\$\{name\}|\{n\}|</?b>|%\(who\)s", "", out)
    assert not any(c.isascii() and c.isalpha() for c in kept), kept
    assert len(out) >= 1.4 * len(text) - len("${name}{n}<b></b>%(who)s")


def test_every_message_has_a_pseudo_translation() -> None:
    template = i18n.read_catalog(i18n.TEMPLATE)
    pseudo = i18n.translations(i18n.PSEUDO)
    for message in template:
        if isinstance(message.id, str) and message.id:
            assert pseudo.gettext(message.id).startswith(i18n.PSEUDO_OPEN), message.id


def test_card_templates_are_translated_before_their_values_are_filled() -> None:
    renderer = CardRenderer(REPO / "cards")
    template = renderer.template("welcome")
    assert "Hi ${name}, welcome to AI Ready" in card_messages(template)
    with i18n.using(i18n.negotiate("qps-ploc")):
        card = renderer.render(
            "welcome",
            json.loads((REPO / "cards" / "samples" / "welcome.json").read_text()),
        )
    heading = json.dumps(card, ensure_ascii=False)
    # The name is data: it comes in after translation, so it is not accented.
    sample_name = json.loads((REPO / "cards" / "samples" / "welcome.json").read_text())["name"]
    assert sample_name in heading
    assert i18n.pseudo("Hi ${name}, welcome to AI Ready").replace("${name}", sample_name) in heading


def test_the_page_catalog_holds_only_the_pages_messages_with_all_plural_forms() -> None:
    page = i18n.page_catalog("de")
    assert page["language"] == "de" and "ja" in page["languages"]
    assert page["plural"] == {"one": 0, "other": 1}
    template = i18n.read_catalog(i18n.TEMPLATE)
    card_only = {
        str(m.id)
        for m in template
        if isinstance(m.id, str) and all(p.startswith("cards/") for p, _l in m.locations)
    }
    assert card_only and not card_only & set(page["messages"])
    plurals = [v for v in page["messages"].values() if isinstance(v, list)]
    assert plurals and all(len(v) == 2 for v in plurals)


def test_untranslated_text_stays_english() -> None:
    with i18n.using(i18n.negotiate("de")):
        assert _("a message no catalog has {x}", x=1) == "a message no catalog has 1"


def test_the_messages_command_checks_and_extracts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from server.cli import main

    assert main(["messages", "check"]) == 0
    assert "catalogs OK" in capsys.readouterr().err
    # A message in the code that no catalog has yet is reported, by its text.
    copy = tmp_path / "repo"
    for part in ("teams_app", "server", "cards", "manifest"):
        shutil.copytree(REPO / part, copy / part, ignore=shutil.ignore_patterns("__pycache__"))
    view = copy / "teams_app" / "views.py"
    view.write_text(view.read_text() + '\n\nNEW = _("A brand-new sentence")\n')
    problems = [str(p) for p in messages.check(copy)]
    assert any("A brand-new sentence" in p and "out of date" in p for p in problems)
    # extract() brings it into the template and every catalog, untranslated there.
    report = messages.update(copy)
    assert report[0].startswith("messages.pot:") and all("1 to translate" in r for r in report[1:])
    problems = [str(p) for p in messages.check(copy)]
    assert problems and all("A brand-new sentence" in p for p in problems), problems[:5]
