"""The one Alembic history produces exactly the models' schema, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from tests.conftest import BACKENDS, _drop_pg_database, make_engine, PG_URL


@pytest.mark.parametrize("backend", BACKENDS)
async def test_migrations_match_models(backend: str, tmp_path: Path) -> None:
    from bot.models import Base

    from bot import db

    engine, url, name = await make_engine(backend, tmp_path)
    try:
        await db.alembic(command.upgrade, "head", url=url)  # what start-up runs

        async with engine.connect() as conn:
            tables = set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
            diffs = await conn.run_sync(
                lambda c: compare_metadata(MigrationContext.configure(c, opts={"compare_type": True}), Base.metadata)
            )
        assert set(Base.metadata.tables) <= tables
        assert diffs == [], f"models and migrations differ: {diffs}"
    finally:
        await engine.dispose()
        if name:
            await _drop_pg_database(PG_URL or "", name)


@pytest.mark.parametrize("backend", BACKENDS)
async def test_ids_become_text_and_keep_their_values(backend: str, tmp_path: Path) -> None:
    """Migration 0008: a deployment's existing QQ numbers become text ids, unchanged, and the
    way back gives the numbers again."""
    from sqlalchemy import text

    from bot import db

    engine, url, name = await make_engine(backend, tmp_path)
    row = (
        "INSERT INTO study_points (user_id, activity, ref, points, day, month, name, created_at) "
        "VALUES (30001, 'checkin', 'm1', 1, '2026-11-05', '2026-11', '张伟', '2026-11-05 09:00:00+00:00')"
    )
    try:
        await db.alembic(command.upgrade, "5e1b7c2d9a40", url=url)
        async with engine.begin() as conn:
            await conn.execute(text(row))
        await db.alembic(command.upgrade, "head", url=url)
        async with engine.connect() as conn:
            ids = (await conn.execute(text("SELECT user_id FROM study_points"))).scalars().all()
            tables = set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
        assert ids == ["30001"]
        assert "org_person" not in tables

        await db.alembic(command.downgrade, "5e1b7c2d9a40", url=url)
        async with engine.connect() as conn:
            ids = (await conn.execute(text("SELECT user_id FROM study_points"))).scalars().all()
        assert ids == [30001]
    finally:
        await engine.dispose()
        if name:
            await _drop_pg_database(PG_URL or "", name)
