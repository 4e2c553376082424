"""Fixtures for the replica tests; the helpers live in cluster.py."""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from support.cluster import BROKERS, Cluster, Panel, reachable, tcpr
from support.databases import drop_postgres_database, fresh_postgres_database, require_postgres


@pytest.fixture(params=list(BROKERS))
def cluster(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Cluster]:
    require_postgres()
    broker = BROKERS[request.param]
    if not reachable(broker):
        reason = f"{request.param} at {broker} unreachable"
        if os.environ.get("CI"):
            pytest.fail(f"{reason}; CI must run the replica tests", pytrace=False)
        pytest.skip(reason)
    url, name = fresh_postgres_database()
    env = {k: v for k, v in os.environ.items() if not k.startswith("TCPR_")}
    env.update(
        TCPR_DATABASE_URL=url,
        TCPR_BROKER_URL=broker,
        TCPR_BROKER_CHANNEL=f"tcpr.test.{uuid.uuid4().hex}",
        TCPR_CATCH_UP_INTERVAL_SECONDS="1",
        PYTHONUNBUFFERED="1",
    )
    subprocess.run([*tcpr(), "migrate"], env=env, check=True, capture_output=True)
    running = Cluster(url, env, tmp_path)
    try:
        yield running
    finally:
        for replica in running.replicas:
            replica.stop()
        drop_postgres_database(name)


@pytest.fixture
async def panels() -> AsyncIterator[list[Panel]]:
    opened: list[Panel] = []
    yield opened
    for panel in opened:
        await panel.close()
