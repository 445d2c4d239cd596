"""Requests kazoo 2.8 does not know, sent through its own connection: createContainer (19),
createTTL (21), checkWatches (17), removeWatches (18), getEphemerals (103),
getAllChildrenNumber (104), addWatch (106) and whoAmI (107).

kazoo hands any object with `type`, `serialize()` and `deserialize()` to the server, so each
request here is such an object; replies and errors come back through kazoo's own machinery.

kazoo 2.8 also only dispatches a notification to the watcher registered for exactly that path
and type, which loses the events of persistent (recursive) watches. RawEvents therefore records
every notification as it is read off the socket, on kazoo's connection thread, so the order is
the server's order and a sync reply read afterwards proves every earlier event is recorded.
"""

import base64
import hashlib
import socket
import struct
import threading
from collections import namedtuple

from kazoo.exceptions import EXCEPTIONS, ZookeeperError
from kazoo.protocol.serialization import (Create2, Watch, int_struct, read_string, write_string)

# kazoo 2.8 knows no QUOTAEXCEEDED and raises RuntimeError on an unknown code; name it instead.


class QuotaExceededError(ZookeeperError):
    code = -125


class NoWatcherError(ZookeeperError):
    code = -121


EXCEPTIONS[-125] = QuotaExceededError
EXCEPTIONS[-121] = NoWatcherError

# CreateMode flags (S/CreateMode.java).
PERSISTENT, EPHEMERAL, PERSISTENT_SEQUENTIAL, EPHEMERAL_SEQUENTIAL = 0, 1, 2, 3
CONTAINER, PERSISTENT_WITH_TTL, PERSISTENT_SEQUENTIAL_WITH_TTL = 4, 5, 6


def digest_id(user, password):
    """The digest scheme's id: user:base64(sha1(user:password))."""
    raw = hashlib.sha1(("%s:%s" % (user, password)).encode("utf-8")).digest()
    return "%s:%s" % (user, base64.b64encode(raw).decode("ascii"))


def _acl_bytes(acl):
    b = bytearray(int_struct.pack(len(acl)))
    for entry in acl:
        b.extend(int_struct.pack(entry.perms) + write_string(entry.id.scheme) + write_string(entry.id.id))
    return b


class CreateContainer(namedtuple("CreateContainer", "path data acl")):
    type = 19

    def serialize(self):
        b = bytearray(write_string(self.path))
        b.extend(int_struct.pack(len(self.data)) + self.data)
        b.extend(_acl_bytes(self.acl))
        b.extend(int_struct.pack(CONTAINER))
        return b

    deserialize = Create2.deserialize


class CreateTTL(namedtuple("CreateTTL", "path data acl flags ttl")):
    type = 21

    def serialize(self):
        b = bytearray(write_string(self.path))
        b.extend(int_struct.pack(len(self.data)) + self.data)
        b.extend(_acl_bytes(self.acl))
        b.extend(int_struct.pack(self.flags))
        b.extend(self.ttl.to_bytes(8, "big", signed=True))
        return b

    deserialize = Create2.deserialize


class _PathAndInt:
    def serialize(self):
        return bytearray(write_string(self.path)) + int_struct.pack(self.number)

    @classmethod
    def deserialize(cls, buffer, offset):
        return True


class CheckWatches(namedtuple("CheckWatches", "path number"), _PathAndInt):
    """number: 1 children, 2 data, 3 any."""
    type = 17


class RemoveWatches(namedtuple("RemoveWatches", "path number"), _PathAndInt):
    type = 18


class AddWatch(namedtuple("AddWatch", "path number"), _PathAndInt):
    """number: 0 persistent, 1 persistent recursive."""
    type = 106


class GetEphemerals(namedtuple("GetEphemerals", "path")):
    type = 103

    def serialize(self):
        return bytearray(write_string(self.path))

    @classmethod
    def deserialize(cls, buffer, offset):
        count = int_struct.unpack_from(buffer, offset)[0]
        offset += 4
        paths = []
        for _ in range(max(count, 0)):
            path, offset = read_string(buffer, offset)
            paths.append(path)
        return paths


class GetAllChildrenNumber(namedtuple("GetAllChildrenNumber", "path")):
    type = 104

    def serialize(self):
        return bytearray(write_string(self.path))

    @classmethod
    def deserialize(cls, buffer, offset):
        return int_struct.unpack_from(buffer, offset)[0]


class WhoAmI(namedtuple("WhoAmI", "")):
    type = 107

    def __bool__(self):
        # kazoo only sets the result of a truthy request, and an empty tuple is falsy.
        return True

    def serialize(self):
        return bytearray()

    @classmethod
    def deserialize(cls, buffer, offset):
        count = int_struct.unpack_from(buffer, offset)[0]
        offset += 4
        infos = []
        for _ in range(max(count, 0)):
            scheme, offset = read_string(buffer, offset)
            user, offset = read_string(buffer, offset)
            infos.append("%s:%s" % (scheme, user))
        return tuple(infos)


def send(client, request):
    """Queues a request on kazoo's connection; returns kazoo's async result."""
    result = client.handler.async_result()
    client._call(request, result)
    return result


class RawEvents:
    """Every notification of one client, in wire order, as [type, state, path]."""

    def __init__(self, client):
        self._events = []
        self._lock = threading.Lock()
        connection = client._connection
        original = connection._read_watch_event

        def record(buffer, offset):
            watch, _ = Watch.deserialize(buffer, offset)
            with self._lock:
                self._events.append([watch.type, watch.state, watch.path])
            return original(buffer, offset)

        connection._read_watch_event = record

    def take(self):
        with self._lock:
            events, self._events = self._events, []
        return events


class RawSession:
    """A minimal hand-made connection, for what kazoo cannot do deterministically: kazoo re-sends
    a failed credential on every reconnect, and each reconnect may make another session."""

    def __init__(self, server, session_id=0, password=b"\0" * 16, timeout_ms=10000):
        host, port = server.rsplit(":", 1)
        self.sock = socket.create_connection((host, int(port)), timeout=10)
        body = struct.pack("!iqiq", 0, 0, timeout_ms, session_id) + struct.pack("!i", len(password)) + password + b"\0"
        self._send(body)
        reply = self.read_frame()
        if reply is None:
            raise ConnectionError("the server refused the session")
        _, _, self.session_id = struct.unpack_from("!iiq", reply, 0)
        length = struct.unpack_from("!i", reply, 16)[0]
        self.password = reply[20:20 + length]

    def _send(self, payload):
        self.sock.sendall(struct.pack("!i", len(payload)) + payload)

    def request(self, xid, op, body=b""):
        """Sends a request; returns (xid, zxid, err) of the reply, or None if the server closed."""
        self._send(struct.pack("!ii", xid, op) + body)
        frame = self.read_frame()
        return None if frame is None else struct.unpack_from("!iqi", frame, 0)

    def read_frame(self):
        header = self._read(4)
        if header is None:
            return None
        return self._read(struct.unpack("!i", header)[0])

    def _read(self, count):
        data = b""
        while len(data) < count:
            try:
                chunk = self.sock.recv(count - len(data))
            except (ConnectionResetError, socket.timeout):
                return None
            if not chunk:
                return None
            data += chunk
        return data

    def close(self):
        self.sock.close()


def auth_body(scheme, credential):
    raw = credential.encode()
    return struct.pack("!i", 0) + write_string(scheme) + struct.pack("!i", len(raw)) + raw


def failed_auth(server, scheme, credential):
    """addauth with a scheme the server has no provider for, on a session of its own: the reply
    (AUTHFAILED, and whether the server then closed the connection); afterwards the session is
    resumed on a new connection and closed, so that no expiry lands at a random later moment."""
    first = RawSession(server)
    try:
        reply = first.request(-4, 100, auth_body(scheme, credential))
        closed = first.read_frame() is None
    finally:
        first.close()
    second = RawSession(server, first.session_id, first.password)
    try:
        close_reply = second.request(1, -11)
    finally:
        second.close()
    return {"auth reply xid,err": None if reply is None else [reply[0], reply[2]],
            "then closed": closed, "closeSession err": None if close_reply is None else close_reply[2]}
