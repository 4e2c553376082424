"""A fake CAD offering a NENA-STA-024 subscribe/notify websocket, for the EIDO adapter tests."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any

from websockets.asyncio.server import ServerConnection

WAIT = 10.0  # a guard against hanging, never an assertion on how long anything takes


@dataclass
class Notifier:
    """A fake CAD: every message from any subscriber connection lands in one inbox, and the test
    answers on the connection it came from."""

    url: str = ""
    inbox: asyncio.Queue[tuple[ServerConnection, int, dict[str, Any]]] = field(
        default_factory=asyncio.Queue
    )
    connections: int = 0
    headers: list[str | None] = field(default_factory=list)

    async def handler(self, connection: ServerConnection) -> None:
        self.connections += 1
        number = self.connections
        assert connection.request is not None
        self.headers.append(connection.request.headers.get("Authorization"))
        async for message in connection:
            await self.inbox.put((connection, number, json.loads(message)))

    async def next(self) -> tuple[ServerConnection, int, dict[str, Any]]:
        return await asyncio.wait_for(self.inbox.get(), WAIT)

    async def subscribed(self, status: int = 200) -> tuple[ServerConnection, int, dict[str, Any]]:
        """Take the next subscribe request and answer it with `status`."""
        connection, number, message = await self.next()
        request = message["subscribe"]
        response = {
            "requestId": request["requestId"],
            "subscriptionId": f"sub-{number}",
            "statusCode": status,
            "statusText": "OK" if status == 200 else "Forbidden",
        }
        await connection.send(json.dumps({"subscribeResponse": response}))
        return connection, number, request

    async def notify(
        self, connection: ServerConnection, transaction: str, *documents: dict[str, Any]
    ) -> dict[str, Any]:
        """Send one notification; the subscriber's eventResponse to it."""
        event = {"subscriptionId": "sub", "transactionId": transaction, "notification": documents}
        await connection.send(json.dumps({"event": event}))
        _, _, answer = await self.next()
        response: dict[str, Any] = answer["eventResponse"]
        return response
