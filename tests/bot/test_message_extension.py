"""The message extension over real HTTP: search, pick, unfurl and share lessons from any chat,
and the ``lesson <id>`` command the shared card's button types into the learner's own chat.

Invokes go through ``POST /api/messages`` and the bot's real turn pipeline; every card that
comes back is checked by Microsoft's Adaptive Cards library.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from server.app import create_app
from teams_app.domain.content import Curriculum, Role
from teams_app.domain.learner import iso_week
from teams_app.engine.kickoff import default_challenge
from teams_app.storage.engine_memory import memory_engine
from teams_app.storage.memory import MemoryLearnerStore
from teams_app.storage.ports import LearnerKey
from teams_app.storage.team_memory import MemoryTeamStore
from tests.bot.conftest import dev_settings
from tests.support.activities import BOT_ID, TeamsUser
from tests.support.cardcheck import CardValidator
from tests.support.driver import BotDriver, find_action, texts

PUBLIC_URL = "https://ai-ready.contoso.example"
NOW = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)  # a Wednesday in 2026-W49
ADAPTIVE = "application/vnd.microsoft.card.adaptive"
THUMBNAIL = "application/vnd.microsoft.card.thumbnail"
QUERY = "composeExtension/query"
# Teams unfurls links with Adaptive Cards 1.3: the shared card uses nothing newer.
UP_TO_1_3 = {"AdaptiveCard", "ColumnSet", "Column", "TextBlock", "FactSet", "Action.OpenUrl"}
Body = dict[str, Any]


@pytest.fixture
async def app_client(aiohttp_client: Callable[..., Any], memory_store: MemoryLearnerStore) -> Any:
    app = create_app(
        dev_settings(AIREADY_PUBLIC_URL=PUBLIC_URL),
        store=memory_store,
        team_store=MemoryTeamStore(),
        engine=memory_engine(),
        clock=lambda: NOW,
    )
    return await aiohttp_client(app)


@pytest.fixture
def colleague(app_client: Any, connector: Any, card_validator: CardValidator) -> BotDriver:
    """Someone writing in a group chat, where the message extension is used."""
    fake, server = connector
    user = TeamsUser(
        service_url=str(server.make_url("/")),
        conversation_type="groupChat",
        conversation_id="19:project-chat@thread.v2",
    )
    return BotDriver(app_client, fake, user, validator=card_validator)


@pytest.fixture
def learner(app_client: Any, connector: Any, card_validator: CardValidator) -> BotDriver:
    """The same person in their 1:1 chat with AI Ready."""
    fake, server = connector
    return BotDriver(
        app_client, fake, TeamsUser(service_url=str(server.make_url("/"))), validator=card_validator
    )


async def invoke(bot: BotDriver, name: str, value: Any) -> tuple[int, Any]:
    """Post a ``name`` invoke with ``value`` as Teams does; the status and body, answered
    within a second (Teams allows about five)."""
    activity = {**bot.user.invoke("unused"), "name": name, "value": value}
    started = time.monotonic()
    response = await bot.post(activity)
    assert time.monotonic() - started < 1.0, "well within Teams' invoke time limit"
    return response.status, await response.json()


def search_value(text: str | None, skip: Any = 0, count: Any = 25) -> Body:
    parameters = (
        [{"name": "initialRun", "value": "true"}]
        if text is None
        else [{"name": "query", "value": text}]
    )
    return {
        "commandId": "searchLessons",
        "parameters": parameters,
        "queryOptions": {"skip": skip, "count": count},
    }


def attachments(status: int, body: Body, validator: CardValidator) -> list[Body]:
    """The attachments of a ``result``, each card checked."""
    assert status == 200, body
    result = body["composeExtension"]
    assert (result["type"], result["attachmentLayout"]) == ("result", "list")
    for attachment in result["attachments"]:
        assert attachment["contentType"] == ADAPTIVE
        card = attachment["content"]
        assert card["version"] == "1.5"
        validator.assert_valid(card, "shared lesson card")
    found: list[Body] = result["attachments"]
    return found


def message(status: int, body: Body) -> str:
    """The text of a ``message`` result."""
    assert status == 200, body
    result = body["composeExtension"]
    assert result["type"] == "message", result
    text: str = result["text"]
    return text


def item_ids(found: list[Body]) -> list[str]:
    return [a["preview"]["content"]["tap"]["value"]["id"] for a in found]


def open_url(card: Body) -> str:
    (action,) = card["actions"]
    assert (action["type"], action["title"]) == ("Action.OpenUrl", "Open in AI Ready")
    url: str = action["url"]
    return url


def lesson_ids(curriculum: Curriculum, *, everyone: bool) -> list[str]:
    return [
        lesson_id
        for track in curriculum.tracks
        if (Role.EVERYONE in track.roles) == everyone
        for lesson_id in track.lesson_ids
    ]


# --- search ------------------------------------------------------------------------------------


async def test_an_empty_search_lists_this_weeks_suggestions(
    colleague: BotDriver, curriculum: Curriculum, card_validator: CardValidator
) -> None:
    found = attachments(*await invoke(colleague, QUERY, search_value(None)), card_validator)
    challenge = default_challenge(curriculum, iso_week(NOW.date()))
    assert challenge is not None
    ids = item_ids(found)
    assert ids[0] == challenge.id, "this week's challenge for everyone comes first"
    assert sorted(ids[1:]) == sorted(lesson_ids(curriculum, everyone=True))
    assert len(found) <= 25
    first_lesson = found[1]
    preview = first_lesson["preview"]
    assert preview["contentType"] == THUMBNAIL
    lesson = curriculum.lessons[ids[1]]
    assert preview["content"]["title"] == lesson.title
    assert preview["content"]["tap"] == {"type": "invoke", "value": {"id": lesson.id}}
    card = first_lesson["content"]
    assert lesson.title in texts(card)
    assert curriculum.skill_name(lesson.skill) in texts(card)
    minutes = max(1, round(lesson.reading_minutes + len(lesson.questions) * 0.5))
    assert 3 <= minutes <= 8, "a 5-minute lesson"
    assert f"About {minutes} minutes" in texts(card)
    link = urlsplit(open_url(card))
    assert (link.scheme, link.netloc, link.path) == ("https", "teams.microsoft.com", "/l/chat/0/0")
    assert parse_qs(link.query) == {"users": [BOT_ID], "message": [f"lesson {lesson.id}"]}
    assert f"message=lesson%20{lesson.id}" in link.query


async def test_a_typed_query_finds_lessons_and_challenges_by_title_summary_or_skill(
    colleague: BotDriver, curriculum: Curriculum, card_validator: CardValidator
) -> None:
    found = attachments(*await invoke(colleague, QUERY, search_value("Prompt")), card_validator)
    titles = [a["preview"]["content"]["title"] for a in found]
    in_title = [t for t in titles if "prompt" in t.casefold()]
    assert in_title and titles[: len(in_title)] == in_title, "title matches come first"
    assert any(
        a["preview"]["content"]["tap"]["value"]["id"].startswith("challenge-") for a in found
    )

    by_skill = attachments(
        *await invoke(colleague, QUERY, search_value("data interpretation")), card_validator
    )
    ids = set(item_ids(by_skill))
    skilled = {
        i for i, lesson in curriculum.lessons.items() if lesson.skill == "data-interpretation"
    }
    assert skilled and skilled <= ids, "every lesson on the skill is found"

    lesson = curriculum.lessons[lesson_ids(curriculum, everyone=False)[0]]
    words = " ".join(lesson.concept.replace("*", "").split()[:4])  # from its summary
    assert lesson.id in item_ids(
        attachments(*await invoke(colleague, QUERY, search_value(words)), card_validator)
    )


async def test_a_query_that_matches_nothing_gets_an_empty_result(
    colleague: BotDriver, card_validator: CardValidator
) -> None:
    status, body = await invoke(colleague, QUERY, search_value("quantum basket weaving"))
    assert attachments(status, body, card_validator) == []


async def test_results_page_with_skip_and_count_and_never_exceed_25(
    colleague: BotDriver, card_validator: CardValidator
) -> None:
    everything = item_ids(
        attachments(*await invoke(colleague, QUERY, search_value(None)), card_validator)
    )
    pages: list[str] = []
    for skip in range(0, len(everything) + 5, 5):
        page = item_ids(
            attachments(
                *await invoke(colleague, QUERY, search_value(None, skip, 5)), card_validator
            )
        )
        assert len(page) <= 5
        pages += page
    assert pages == everything

    broad = attachments(*await invoke(colleague, QUERY, search_value("a", 0, 100)), card_validator)
    assert len(broad) == 25, "Teams shows at most 25 a page"
    second = item_ids(
        attachments(*await invoke(colleague, QUERY, search_value("a", 25, 25)), card_validator)
    )
    assert second and not set(second) & set(item_ids(broad))
    unusable: list[tuple[Any, Any]] = [(-3, "x"), (None, 0), (True, [1])]
    for skip, count in unusable:
        odd = attachments(
            *await invoke(colleague, QUERY, search_value(None, skip, count)), card_validator
        )
        assert item_ids(odd) == everything[:25], "unusable paging falls back to the first page"


async def test_a_hostile_query_is_answered_quickly_and_safely(
    colleague: BotDriver, card_validator: CardValidator
) -> None:
    hostile = ("x" * 4990) + "\u0000\u202e<at>"
    status, body = await invoke(colleague, QUERY, search_value(hostile))
    assert attachments(status, body, card_validator) == []
    for value in (
        {"commandId": "searchLessons", "parameters": "q"},
        {"commandId": "searchLessons"},
    ):
        found = attachments(*await invoke(colleague, QUERY, value), card_validator)
        assert found, "no usable query: the week's suggestions"


# --- picking a result and unfurling a link -----------------------------------------------------


async def test_selecting_a_result_returns_its_full_card(
    colleague: BotDriver, card_validator: CardValidator
) -> None:
    found = attachments(*await invoke(colleague, QUERY, search_value("agents")), card_validator)
    tap = found[0]["preview"]["content"]["tap"]["value"]
    (chosen,) = attachments(
        *await invoke(colleague, "composeExtension/selectItem", tap), card_validator
    )
    assert chosen["content"] == found[0]["content"]
    status, body = await invoke(colleague, "composeExtension/selectItem", {"id": "gone"})
    assert "no longer available" in message(status, body)


async def test_a_pasted_lesson_link_unfurls_into_its_card(
    colleague: BotDriver, curriculum: Curriculum, card_validator: CardValidator
) -> None:
    lesson = next(iter(curriculum.lessons.values()))
    status, body = await invoke(
        colleague, "composeExtension/queryLink", {"url": f"{PUBLIC_URL}/lessons/{lesson.id}"}
    )
    assert status == 200
    result = body["composeExtension"]
    assert (result["type"], result["attachmentLayout"]) == ("result", "list")
    (unfurled,) = result["attachments"]
    card = unfurled["content"]
    assert card["version"] == "1.3"
    assert lesson.title in texts(card)
    card_validator.assert_valid({**card, "version": "1.5"}, "unfurled card")
    assert types_in(card) <= UP_TO_1_3
    assert unfurled["preview"]["content"]["title"] == lesson.title


def types_in(node: Any) -> set[str]:
    if isinstance(node, list):
        return set().union(*(types_in(v) for v in node)) if node else set()
    if not isinstance(node, dict):
        return set()
    found = {node["type"]} if isinstance(node.get("type"), str) else set()
    assert node.get("style") != "heading", "a 1.5 style"
    return found.union(*(types_in(v) for v in node.values()))


@pytest.mark.parametrize(
    "url",
    [
        "https://elsewhere.example/lessons/{id}",
        "http://ai-ready.contoso.example/lessons/{id}",
        "https://ai-ready.contoso.example:8443/lessons/{id}",
        "https://ai-ready.contoso.example/lessons/no-such-lesson",
        "https://ai-ready.contoso.example/tabs/my-learning",
        "https://ai-ready.contoso.example/lessons/%3Cscript%3E",
        "not a url at all ]",
    ],
)
async def test_other_links_get_an_empty_result_not_an_error(
    colleague: BotDriver, curriculum: Curriculum, url: str
) -> None:
    lesson_id = next(iter(curriculum.lessons))
    status, body = await invoke(
        colleague, "composeExtension/queryLink", {"url": url.format(id=lesson_id)}
    )
    assert status == 200
    assert body == {
        "composeExtension": {"type": "result", "attachmentLayout": "list", "attachments": []}
    }


# --- sharing a lesson --------------------------------------------------------------------------


def share_value(lesson: Any) -> Body:
    return {"commandId": "shareLesson", "commandContext": "compose", "data": {"lesson": lesson}}


async def test_share_lesson_inserts_the_lesson_card(
    colleague: BotDriver, curriculum: Curriculum, card_validator: CardValidator
) -> None:
    lesson = curriculum.lessons[lesson_ids(curriculum, everyone=False)[0]]
    for named in (
        lesson.id,
        f"  {lesson.title.upper()} ",
        f"{PUBLIC_URL}/lessons/{lesson.id}",
    ):
        status, body = await invoke(colleague, "composeExtension/submitAction", share_value(named))
        (inserted,) = attachments(status, body, card_validator)
        assert lesson.title in texts(inserted["content"]), named
        assert parse_qs(urlsplit(open_url(inserted["content"])).query)["message"] == [
            f"lesson {lesson.id}"
        ]


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (share_value(""), "Type a lesson's title"),
        (share_value(None), "Type a lesson's title"),
        ({"commandId": "shareLesson", "data": "lesson"}, "Type a lesson's title"),
        ({"commandId": "shareLesson"}, "Type a lesson's title"),
        (share_value("quantum basket weaving"), "No lesson matches"),
        (share_value("x" * 5000), "No lesson matches"),
        (share_value("the"), "lessons match those words"),
    ],
)
async def test_share_lesson_with_bad_input_says_why(
    colleague: BotDriver, value: Body, reason: str
) -> None:
    text = message(*await invoke(colleague, "composeExtension/submitAction", value))
    assert reason in text
    assert len(text) < 120


# --- what is not ours --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("composeExtension/fetchTask", {"commandId": "shareLesson"}),
        ("composeExtension/querySettingUrl", {}),
        ("composeExtension/launchRockets", {"commandId": "searchLessons"}),
        (QUERY, {"commandId": "someOtherCommand", "parameters": []}),
        ("composeExtension/submitAction", {**share_value("x"), "commandId": "other"}),
        ("composeExtension/submitAction", {**share_value("x"), "botMessagePreviewAction": "send"}),
    ],
)
async def test_compose_extension_invokes_we_do_not_implement_get_501(
    colleague: BotDriver, name: str, value: Body
) -> None:
    # The SDK answers an invoke no route takes with 501 and no body (Bot Framework's
    # "not implemented"); the server passes that on.
    assert await invoke(colleague, name, value) == (501, None)


# --- the lesson command ------------------------------------------------------------------------


async def test_the_shared_cards_button_starts_that_lesson_in_the_learners_chat(
    colleague: BotDriver,
    learner: BotDriver,
    curriculum: Curriculum,
    memory_store: MemoryLearnerStore,
    card_validator: CardValidator,
) -> None:
    lesson = curriculum.lessons[lesson_ids(curriculum, everyone=False)[-1]]
    (shared,) = attachments(
        *await invoke(colleague, "composeExtension/submitAction", share_value(lesson.id)),
        card_validator,
    )
    (typed,) = parse_qs(urlsplit(open_url(shared["content"])).query)["message"]

    card = await learner.say(typed)
    assert lesson.title in texts(card)
    assert "Take the quiz" in texts(card)
    stored = await memory_store.get_profile(
        LearnerKey(learner.user.tenant_id, learner.user.aad_object_id)
    )
    assert stored is not None and stored.state.activity is not None
    assert stored.state.activity.lesson_id == lesson.id
    again = await learner.say(f"Lesson {lesson.id.upper()}.")
    assert lesson.title in texts(again), "case and a full stop don't matter"


async def test_an_unknown_lesson_id_gets_a_friendly_card_and_changes_nothing(
    learner: BotDriver, memory_store: MemoryLearnerStore
) -> None:
    card = await learner.say("lesson no-such-lesson")
    assert "couldn't find that lesson" in texts(card)
    assert find_action(card, "start_lesson")["data"] == {}, "their own next lesson instead"
    stored = await memory_store.get_profile(
        LearnerKey(learner.user.tenant_id, learner.user.aad_object_id)
    )
    assert stored is None or stored.state.activity is None
