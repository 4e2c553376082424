"""The baseline: a bare relay on the same stack (FastAPI, uvicorn, websockets) that forwards each
POST body to every websocket, with no validation, storage or state. Whatever the service costs
beyond this is the price of its work."""

from __future__ import annotations

import asyncio
import json

from fastapi import FastAPI, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import JSONResponse

app = FastAPI()
panels: set[asyncio.Queue[str]] = set()


@app.post("/api/v1/events")
async def relay(request: Request) -> JSONResponse:
    body = (await request.body()).decode()
    payload = json.loads(body)
    for e in payload if isinstance(payload, list) else [payload]:
        message = json.dumps({"type": "event", "event": e})
        for queue in list(panels):
            if queue.full():
                panels.discard(queue)
            else:
                queue.put_nowait(message)
    return JSONResponse({"status": "accepted"})


@app.websocket("/ws")
async def ws(websocket: WebSocket) -> None:
    await websocket.accept()
    await websocket.receive_text()  # the auth message, unchecked
    await websocket.send_text(json.dumps({"type": "snapshot", "seq": 0, "calls": []}))
    queue: asyncio.Queue[str] = asyncio.Queue(1000)
    panels.add(queue)
    try:
        while True:
            await websocket.send_text(await queue.get())
    except WebSocketDisconnect:
        pass
    finally:
        panels.discard(queue)
