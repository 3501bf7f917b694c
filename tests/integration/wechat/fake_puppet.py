"""A local wechaty puppet service (plain gRPC, grpclib + the `wechaty_grpc` messages) for offline tests.

It implements what python-wechaty 0.10.7 calls for the adapter: Start, Stop, Event (server stream),
Ding, Version, Logout, DirtyPayload, ContactPayload, MessagePayload, RoomPayload, RoomMemberList,
RoomMemberPayload, RoomList, MessageSendText, MessageSendFile. Anything else answers UNIMPLEMENTED.

Message types use the TypeScript puppet numbering the Python client expects (Text = 7, Image = 6).
"""
from __future__ import annotations

import asyncio
import base64
import itertools
import json
from collections import Counter
from dataclasses import dataclass, field

from grpclib.const import Cardinality, Handler, Status
from grpclib.exceptions import GRPCError
from grpclib.server import Server
from wechaty_grpc.wechaty import puppet as pb

from tests.clock import wall_ms

ATTACHMENT, IMAGE, TEXT = 1, 6, 7  # TypeScript wechaty-puppet MessageType numbering


@dataclass
class Sent:
    conversation_id: str
    text: str
    mention_ids: list[str]


@dataclass
class SentFile:
    conversation_id: str
    name: str
    data: bytes  # the decoded file content
    filebox: dict  # the JSON filebox as the client sent it


@dataclass
class Room:
    topic: str
    members: list[str]
    aliases: dict[str, str] = field(default_factory=dict)


class _Server(Server):
    """grpclib Server that can also drop its TCP connections, as a crashing service would."""

    def __init__(self, handlers: list) -> None:
        super().__init__(handlers)
        self.transports: set[asyncio.BaseTransport] = set()

    def _protocol_factory(self):  # type: ignore[no-untyped-def]
        proto = super()._protocol_factory()
        made = proto.connection_made

        def connection_made(transport: asyncio.BaseTransport) -> None:
            self.transports.add(transport)
            made(transport)

        proto.connection_made = connection_made  # type: ignore[method-assign]
        return proto


class FakePuppetService:
    def __init__(self, self_id: str = "wxid_bot", self_name: str = "接待助手") -> None:
        self.self_id = self_id
        self.contacts: dict[str, str] = {self_id: self_name}
        self.rooms: dict[str, Room] = {}
        self.messages: dict[str, pb.MessagePayloadResponse] = {}
        self.sent: list[Sent] = []
        self.files: list[SentFile] = []
        self.outbox: list[Sent | SentFile] = []  # every text and file sent, in order
        self.file_error: GRPCError | None = None  # when set, MessageSendFile answers with this error
        self.calls: Counter[str] = Counter()
        self.port = 0
        self._queues: set[asyncio.Queue] = set()
        self.deaf = False                          # deafen(): streams open, nothing on them
        self.held: list[pb.EventResponse] = []
        self._server: _Server | None = None
        self._ids = itertools.count(1)

    # -- test controls ---------------------------------------------------------------------

    async def start(self, port: int = 0) -> None:
        self._server = _Server([self])
        await self._server.start("127.0.0.1", port or self.port)
        self.port = self._server._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def stop(self) -> None:
        """Stop like a crash: cancel the handlers and drop every connection."""
        if self._server is None:
            return
        server, self._server = self._server, None
        server.close()
        for transport in server.transports:
            transport.abort()
        await server.wait_closed()
        self._queues.clear()

    async def restart(self) -> None:
        await self.stop()
        await self.start(self.port)

    @property
    def streams(self) -> int:
        """Event streams opened so far (one per client session)."""
        return self.calls["Event"]

    def push_message(self, message_id: str, talker: str, text: str, room: str = "",
                     mention_ids: tuple[str, ...] = (), type: int = TEXT,
                     timestamp: float | None = None) -> None:
        """Store a message payload and announce it on every open event stream (timestamp in seconds)."""
        ms = wall_ms() if timestamp is None else int(timestamp * 1000)
        self.messages[message_id] = pb.MessagePayloadResponse(
            id=message_id, text=text, timestamp=ms, type=type, from_id=talker,
            room_id=room, to_id="" if room else self.self_id, mention_ids=list(mention_ids))
        self.emit(pb.EventType.EVENT_TYPE_MESSAGE, {"messageId": message_id})

    def deafen(self) -> None:
        """Open streams stay open and carry nothing from now on (no message, no dong); what would have gone
        is held and sent on the next stream a client opens."""
        self.deaf = True

    def emit(self, type: pb.EventType, payload: dict) -> None:
        if self.deaf:
            self.held.append(pb.EventResponse(type=type, payload=json.dumps(payload)))
            return
        for q in self._queues:
            q.put_nowait(pb.EventResponse(type=type, payload=json.dumps(payload)))

    # -- gRPC --------------------------------------------------------------------------------

    def __mapping__(self) -> dict[str, Handler]:
        unary = {  # rpc name → handler; request/response types are pb.<Name>Request / pb.<Name>Response
            "Start": lambda r: pb.StartResponse(),
            "Stop": lambda r: pb.StopResponse(),
            "Logout": lambda r: pb.LogoutResponse(),
            "Version": lambda r: pb.VersionResponse(version="0.0.0-fake"),
            "Ding": self._ding,
            "DirtyPayload": lambda r: pb.DirtyPayloadResponse(),
            "ContactPayload": self._contact,
            "MessagePayload": self._message,
            "RoomPayload": self._room,
            "RoomList": lambda r: pb.RoomListResponse(ids=list(self.rooms)),
            "RoomMemberList": self._room_members,
            "RoomMemberPayload": self._room_member,
            "MessageSendText": self._send_text,
            "MessageSendFile": self._send_file,
        }
        mapping = {
            f"/wechaty.Puppet/{name}": Handler(self._unary(name, fn), Cardinality.UNARY_UNARY,
                                               getattr(pb, f"{name}Request"), getattr(pb, f"{name}Response"))
            for name, fn in unary.items()}
        mapping["/wechaty.Puppet/Event"] = Handler(
            self._event, Cardinality.UNARY_STREAM, pb.EventRequest, pb.EventResponse)
        return mapping

    def _unary(self, name, fn):  # type: ignore[no-untyped-def]
        async def handle(stream) -> None:  # type: ignore[no-untyped-def]
            request = await stream.recv_message()
            self.calls[name] += 1
            await stream.send_message(fn(request))
        return handle

    async def _event(self, stream) -> None:  # type: ignore[no-untyped-def]
        await stream.recv_message()
        self.calls["Event"] += 1
        q: asyncio.Queue = asyncio.Queue()
        self._queues.add(q)
        try:
            await stream.send_message(pb.EventResponse(
                type=pb.EventType.EVENT_TYPE_LOGIN, payload=json.dumps({"contactId": self.self_id})))
            if self.deaf:                               # a new stream: it hears again, what was held first
                self.deaf, held, self.held = False, self.held, []
                for event in held:
                    q.put_nowait(event)
            while True:
                await stream.send_message(await q.get())
        finally:
            self._queues.discard(q)

    def _ding(self, r: pb.DingRequest) -> pb.DingResponse:
        self.emit(pb.EventType.EVENT_TYPE_DONG, {"data": r.data})
        return pb.DingResponse()

    def _contact(self, r: pb.ContactPayloadRequest) -> pb.ContactPayloadResponse:
        if r.id not in self.contacts:
            raise GRPCError(Status.NOT_FOUND, f"contact {r.id}")
        return pb.ContactPayloadResponse(id=r.id, name=self.contacts[r.id], friend=True,
                                         type=pb.ContactType.CONTACT_TYPE_PERSONAL)

    def _message(self, r: pb.MessagePayloadRequest) -> pb.MessagePayloadResponse:
        if r.id not in self.messages:
            raise GRPCError(Status.NOT_FOUND, f"message {r.id}")
        return self.messages[r.id]

    def _get_room(self, room_id: str) -> Room:
        if room_id not in self.rooms:
            raise GRPCError(Status.NOT_FOUND, f"room {room_id}")
        return self.rooms[room_id]

    def _room(self, r: pb.RoomPayloadRequest) -> pb.RoomPayloadResponse:
        room = self._get_room(r.id)
        return pb.RoomPayloadResponse(id=r.id, topic=room.topic, member_ids=list(room.members))

    def _room_members(self, r: pb.RoomMemberListRequest) -> pb.RoomMemberListResponse:
        return pb.RoomMemberListResponse(member_ids=list(self._get_room(r.id).members))

    def _room_member(self, r: pb.RoomMemberPayloadRequest) -> pb.RoomMemberPayloadResponse:
        room = self._get_room(r.id)
        if r.member_id not in room.members:
            raise GRPCError(Status.NOT_FOUND, f"member {r.member_id}")
        return pb.RoomMemberPayloadResponse(id=r.member_id, name=self.contacts.get(r.member_id, ""),
                                            room_alias=room.aliases.get(r.member_id, ""))

    def _send_text(self, r: pb.MessageSendTextRequest) -> pb.MessageSendTextResponse:
        """Record it; like a real service, the bot's own message then exists and is announced too."""
        sent = Sent(r.conversation_id, r.text, list(r.mentonal_ids))
        self.sent.append(sent)
        self.outbox.append(sent)
        return pb.MessageSendTextResponse(id=self._own_message(
            r.conversation_id, type=TEXT, text=r.text, mention_ids=list(r.mentonal_ids)))

    def _send_file(self, r: pb.MessageSendFileRequest) -> pb.MessageSendFileResponse:
        """Record the file of a JSON filebox (the client sends base64 boxes, boxType 1) and announce it."""
        if self.file_error is not None:
            raise self.file_error
        box = json.loads(r.filebox)
        if box.get("boxType") != 1 or not box.get("name"):
            raise GRPCError(Status.INVALID_ARGUMENT, f"unsupported filebox {sorted(box)}")
        sent = SentFile(r.conversation_id, box["name"], base64.b64decode(box["base64"]), box)
        self.files.append(sent)
        self.outbox.append(sent)
        return pb.MessageSendFileResponse(id=self._own_message(
            r.conversation_id, type=ATTACHMENT, filename=sent.name))

    def _own_message(self, conversation_id: str, **fields) -> str:  # type: ignore[no-untyped-def]
        """Store the bot's own sent message; like a real service, it is then announced too."""
        message_id = f"sent-{next(self._ids)}"
        in_room = conversation_id in self.rooms
        self.messages[message_id] = pb.MessagePayloadResponse(
            id=message_id, timestamp=wall_ms(), from_id=self.self_id,
            room_id=conversation_id if in_room else "", to_id="" if in_room else conversation_id, **fields)
        self.emit(pb.EventType.EVENT_TYPE_MESSAGE, {"messageId": message_id})
        return message_id
