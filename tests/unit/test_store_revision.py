"""The schema revision is read without Alembic (issue 10.5: `status` starts fast); Alembic's own
answers are the reference."""

from __future__ import annotations

from alembic.script import ScriptDirectory

from bot.store.migrate import alembic_config, upgrade
from bot.store.revision import current_revision, head_revision


def test_the_head_is_alembics_head() -> None:
    assert head_revision() == ScriptDirectory.from_config(alembic_config()).get_current_head()


async def test_the_current_revision_is_what_alembic_stamped(tmp_path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'r.db'}"
    assert await current_revision(url) is None  # nothing there yet
    await upgrade(url, "0001")
    assert await current_revision(url) == "0001"
    await upgrade(url)
    assert await current_revision(url) == head_revision() != "0001"
