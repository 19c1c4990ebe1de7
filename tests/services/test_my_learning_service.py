"""The personal tab's use cases (page, download, delete) at the service layer, on the
in-memory fakes, with a team store that can force ETag conflicts."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime

import pytest

from server.config import load_settings
from server.services import Services, build_services
from teams_app.directory import DirectoryError, UserProfile
from teams_app.domain.content import Curriculum, Role
from teams_app.domain.learner import LearnerState, choose_role
from teams_app.domain.review import new_item
from teams_app.domain.schedule import Cadence, Preferences
from teams_app.domain.team import Contribution, contribution_of
from teams_app.my_learning import EXPORT_FORMAT, EXPORT_SECTIONS, MyLearningService
from teams_app.storage.engine_memory import memory_engine
from teams_app.storage.memory import MemoryLearnerStore
from teams_app.storage.ports import ConcurrentUpdate, LearnerKey
from teams_app.storage.team_memory import MemoryTeamStore
from teams_app.storage.team_ports import TeamKey

TENANT = "11111111-1111-4111-8111-111111111111"
TEAM = TeamKey(TENANT, "22222222-2222-4222-8222-222222222222")
NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
ME = LearnerKey(TENANT, "me")
COLLEAGUES = [LearnerKey(TENANT, f"colleague-{n}") for n in range(4)]


class ConflictingTeamStore(MemoryTeamStore):
    """A team store whose next ``conflicts`` member updates lose an ETag race."""

    def __init__(self) -> None:
        super().__init__()
        self.conflicts = 0

    async def update_member(
        self, team: TeamKey, user_id: str, new: Contribution | None, *, join: bool = False
    ) -> bool:
        if self.conflicts > 0:
            self.conflicts -= 1
            raise ConcurrentUpdate
        return await super().update_member(team, user_id, new, join=join)


@dataclass
class FakeDirectory:
    """A directory that knows one profile, or fails."""

    profile_found: UserProfile | None

    async def profile(self, tenant_id: str, user_token: str) -> UserProfile:
        if self.profile_found is None:
            raise DirectoryError("forbidden", status=403)
        return self.profile_found

    async def team_owners(self, tenant_id: str, user_token: str, group_id: str) -> set[str]:
        raise DirectoryError("not used here")

    async def team_departments(
        self, tenant_id: str, user_token: str, group_id: str
    ) -> dict[str, str | None]:
        return dict.fromkeys(await self.team_members(tenant_id, user_token, group_id))

    async def group_name(self, tenant_id: str, user_token: str, group_id: str) -> str | None:
        return None

    async def team_members(self, tenant_id: str, user_token: str, group_id: str) -> list[str]:
        raise DirectoryError("not used here")


@pytest.fixture
async def services(curriculum: Curriculum) -> AsyncIterator[Services]:
    env = {
        "AIREADY_ENV": "development",
        "AIREADY_DEV_ALLOW_ANONYMOUS": "true",
        "AIREADY_STORAGE_CONNECTION_STRING": "UseDevelopmentStorage=true",
        "AIREADY_ENGINE_IN_WEB": "false",
    }
    async with build_services(
        load_settings(env),
        store=MemoryLearnerStore(),
        team_store=ConflictingTeamStore(),
        engine=memory_engine(),
        curriculum=curriculum,
        clock=lambda: NOW,
    ) as built:
        yield built


async def _learner_with_everything(services: Services, key: LearnerKey) -> None:
    """A learner with a profile, a review item, a chat and reminder settings."""
    store = services.store
    await store.save_profile(key, choose_role(LearnerState(), Role.FINANCE), None)
    await store.save_review_items(key, [new_item("foundation-01/q1", NOW)])
    reference = {"conversation": {"id": f"a:{key.user_id}"}, "serviceUrl": "https://x.test/"}
    await services.contacts.installed(key, reference, "install-1", "Asia/Tokyo", welcome=False)
    await services.contacts.change_settings(key, Preferences(Cadence.DAILY, hour=14))
    await services.engine.ledger.plan("challenge-2026-W49", f"{key.tenant_id}|{key.user_id}", NOW)


async def _team_of(services: Services, *keys: LearnerKey) -> None:
    members = {}
    for key in keys:
        stored = await services.store.get_profile(key)
        state = stored.state if stored else LearnerState()
        members[key.user_id] = contribution_of(state, services.curriculum, leader=False)
    await services.team_store.replace_roster(TEAM, members, NOW)


async def test_the_page_shows_the_learners_own_progress_and_a_role_suggestion(
    services: Services,
) -> None:
    await _learner_with_everything(services, ME)
    page = await services.my_learning.page(ME, user_token=None)
    assert page["role"] == {"id": "finance", "label": "Finance"}
    assert page["suggested_role"] is None, "no token, no directory look-up"

    directory = FakeDirectory(UserProfile("Me", "Marketing", "Brand manager"))
    service = MyLearningService(
        services.learning,
        services.store,
        services.curriculum,
        directory,
        services.engine.ledger,
        clock=lambda: NOW,
    )
    page = await service.page(ME, user_token="token")
    assert page["suggested_role"] == {"id": "marketing", "label": "Marketing"}
    directory.profile_found = None  # the directory refuses: the page still comes
    page = await service.page(ME, user_token="token")
    assert page["suggested_role"] is None and page["role"]["id"] == "finance"


async def test_the_download_has_every_stored_part_labelled_and_nobody_elses(
    services: Services,
) -> None:
    await _learner_with_everything(services, ME)
    await _learner_with_everything(services, COLLEAGUES[0])
    data = await services.my_learning.export(ME)
    assert data["format"] == EXPORT_FORMAT and data["sections"] == EXPORT_SECTIONS
    assert set(EXPORT_SECTIONS) <= set(data)
    assert data["profile"]["Role"] == "finance"
    (item,) = data["spaced_review"]
    assert item["question"] == "foundation-01/q1"
    assert datetime.fromisoformat(item["due"]) > NOW
    assert data["deliveries"] == {"challenge-2026-W49": "queued"}
    reminders = data["reminders"]
    assert reminders["Reference"]["conversation"]["id"] == "a:me", "the chat, in full"
    assert (reminders["TimeZone"], reminders["Cadence"], reminders["Hour"]) == (
        "Asia/Tokyo",
        "daily",
        14,
    )
    assert "colleague" not in str(data)


async def test_the_download_of_someone_unknown_is_empty_not_an_error(services: Services) -> None:
    data = await services.my_learning.export(LearnerKey(TENANT, "nobody"))
    assert (data["profile"], data["history"], data["spaced_review"], data["reminders"]) == (
        None,
        [],
        [],
        None,
    )
    assert data["deliveries"] == {}


async def test_delete_survives_etag_conflicts_on_the_team_figures(services: Services) -> None:
    for key in (ME, *COLLEAGUES):
        await _learner_with_everything(services, key)
    await _team_of(services, ME, *COLLEAGUES)
    teams = services.team_store
    assert isinstance(teams, ConflictingTeamStore)
    teams.conflicts = 2  # two colleagues' updates land first
    removed = await services.my_learning.delete(ME)
    assert removed > 0
    assert await _everything_of(services, ME) == (None, [], [], None)
    assert await services.engine.ledger.deliveries_of(f"{TENANT}|me") == {}, "no delivery record"
    assert await services.engine.ledger.deliveries_of(f"{TENANT}|colleague-0") != {}
    # Still on the team's roster (it comes from the directory), contributing nothing.
    stored = await teams.publish(TEAM, lambda live, pub: replace(pub, snapshot=live))
    assert stored is not None and stored.summary is not None
    assert stored.summary.members == len(COLLEAGUES) + 1
    assert await teams.teams_of(TENANT, ME.user_id) == [TEAM.team_id]
    assert await _everything_of(services, COLLEAGUES[0]) != (None, [], [], None)


async def test_a_delete_that_keeps_losing_the_race_deletes_nothing_and_can_be_repeated(
    services: Services,
) -> None:
    await _learner_with_everything(services, ME)
    await _team_of(services, ME, *COLLEAGUES)
    teams = services.team_store
    assert isinstance(teams, ConflictingTeamStore)
    teams.conflicts = 100
    with pytest.raises(ConcurrentUpdate):
        await services.my_learning.delete(ME)
    profile, _, items, contact = await _everything_of(services, ME)
    assert profile is not None and items and contact is not None, "nothing half-deleted"

    teams.conflicts = 0
    await services.my_learning.delete(ME)
    assert await _everything_of(services, ME) == (None, [], [], None)
    assert await services.my_learning.delete(ME) == 0, "repeating it is harmless"


async def _everything_of(services: Services, key: LearnerKey) -> tuple[object, ...]:
    store = services.store
    return (
        await store.get_profile(key),
        await store.list_attempts(key),
        await store.review_items(key),
        await store.get_contact(key),
    )
