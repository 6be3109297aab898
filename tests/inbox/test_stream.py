from __future__ import annotations

import asyncio
import json

import pytest
from asgiref.sync import sync_to_async
from django.db import connections
from django.test import AsyncClient

from kizuna.pipeline.ingest import ingest
from tests.conftest import Cast, make_post


async def _events(response: object, count: int) -> list[str]:
    chunks: list[str] = []
    iterator = response.streaming_content.__aiter__()  # type: ignore[attr-defined]
    while len([c for c in chunks if c.startswith("id:")]) < count:
        chunk = await asyncio.wait_for(iterator.__anext__(), timeout=10)
        chunks.append(chunk.decode() if isinstance(chunk, bytes) else chunk)
    return [c for c in chunks if c.startswith("id:")]


@pytest.mark.django_db(transaction=True)
def test_it_streams_new_cases_to_members(cast: Cast, settings: object) -> None:
    settings.KIZUNA_LIVE_POLL_SECONDS = 0.05  # type: ignore[attr-defined]
    ingest(cast.ws, make_post("サクッと美味しすぎる"))

    async def run() -> list[str]:
        client = AsyncClient()
        await sync_to_async(client.force_login)(cast.alice)
        response = await client.get("/w/hidamari/stream/", {"after": 0})
        assert response["Content-Type"] == "text/event-stream"
        try:
            return await _events(response, 1)
        finally:
            # The stream's queries ran in the thread-sensitive executor: close its connection.
            await sync_to_async(connections.close_all)()

    events = asyncio.run(run())
    data = json.loads(events[0].split("data: ")[1])
    assert data["verb"] == "case.opened" and data["case"]


@pytest.mark.django_db(transaction=True)
def test_it_resumes_after_the_last_event_id(cast: Cast, settings: object) -> None:
    settings.KIZUNA_LIVE_POLL_SECONDS = 0.05  # type: ignore[attr-defined]
    ingest(cast.ws, make_post("サクッと美味しすぎる"))
    ingest(cast.ws, make_post("ひだまりアプリ便利", author="other"))

    async def run() -> list[str]:
        client = AsyncClient()
        await sync_to_async(client.force_login)(cast.alice)
        first = await _events(await client.get("/w/hidamari/stream/", {"after": 0}), 1)
        last_id = first[0].split("\n")[0].removeprefix("id: ")
        try:
            return await _events(await client.get("/w/hidamari/stream/", headers={"Last-Event-ID": last_id}), 1)
        finally:
            await sync_to_async(connections.close_all)()

    events = asyncio.run(run())
    assert int(events[0].split("\n")[0].removeprefix("id: ")) > 1
