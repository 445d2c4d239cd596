"""Shared helpers for the kazoo drivers: canonical, server-independent renderings of replies.

Everything a driver prints must be identical for two servers that behave identically, so
anything that legitimately differs between runs (wall-clock times, session ids, the order of an
unordered set) is normalised here, and nothing else is.
"""

import json
import threading

from kazoo.protocol.states import Callback
from kazoo.protocol.states import ZnodeStat

# Every bounded wait in the drivers uses this; a server that does not answer in time is a
# failure recorded in the trace, never a hang.
OP_TIMEOUT_S = 10.0


class SessionLabels:
    """Maps session ids to stable labels (s0g0, s1g2, ...) so stats compare across servers."""

    def __init__(self):
        self._labels = {}

    def add(self, session_id, label):
        self._labels[session_id] = label

    def label(self, session_id):
        if session_id == 0:
            return 0
        return self._labels.get(session_id, "unknown-session")


def stat_dict(stat, labels):
    """A ZnodeStat without ctime/mtime, with ephemeralOwner mapped to a session label."""
    return {
        "czxid": stat.czxid,
        "mzxid": stat.mzxid,
        "pzxid": stat.pzxid,
        "version": stat.version,
        "cversion": stat.cversion,
        "aversion": stat.aversion,
        "ephemeralOwner": labels.label(stat.ephemeralOwner),
        "dataLength": stat.dataLength,
        "numChildren": stat.numChildren,
    }


def render(value, labels):
    """Turns any kazoo reply into plain JSON-able data.

    Lists of strings are children lists, whose order Apache ZooKeeper leaves undefined (a
    HashSet), so they are sorted.
    """
    if isinstance(value, ZnodeStat):
        return {"stat": stat_dict(value, labels)}
    if isinstance(value, Exception):
        return {"error": type(value).__name__}
    if isinstance(value, bytes):
        return {"data": value.decode("latin-1")}
    if isinstance(value, tuple):
        return [render(v, labels) for v in value]
    if isinstance(value, list):
        if all(isinstance(v, str) for v in value):
            return sorted(value)
        return [render(v, labels) for v in value]
    if value is None or isinstance(value, (bool, int, str)):
        return value
    return repr(value)


def call(async_result):
    """Waits (bounded) for a kazoo async result; an error becomes {"error": ClassName}."""
    try:
        return async_result.get(timeout=OP_TIMEOUT_S)
    except Exception as e:  # noqa: BLE001 - every failure is an answer to record
        return e


def dumps(record):
    return json.dumps(record, sort_keys=True, separators=(",", ":"))


class EventLog:
    """Watch events of one session, in the order kazoo delivered them.

    kazoo reads notifications on its connection thread and queues the watcher calls on its
    callback thread; flush() makes that queue drain so that every event the server sent before
    a given reply has been recorded.
    """

    def __init__(self, client, label):
        self.client = client
        self.label = label
        self._events = []
        self._lock = threading.Condition()
        # One watcher object per kind: kazoo keeps watchers in a set per path, and several
        # distinct functions would fire in an order that depends on memory addresses.
        self.data_watch = lambda ev: self._record("data", ev)
        self.child_watch = lambda ev: self._record("child", ev)

    def _record(self, kind, event):
        with self._lock:
            self._events.append([kind, event.type, event.state, event.path])
            self._lock.notify_all()

    def wait_for(self, count, timeout=OP_TIMEOUT_S):
        """Waits (bounded) until at least count events are pending; True if they came."""
        with self._lock:
            return self._lock.wait_for(lambda: len(self._events) >= count, timeout)

    def flush(self):
        """Sync with the server, then wait until the callback queue has run past that point."""
        result = call(self.client.sync_async("/"))
        if isinstance(result, Exception):
            return "sync failed: " + type(result).__name__
        done = threading.Event()
        self.client.handler.dispatch_callback(Callback("watch", done.set, ()))
        if not done.wait(OP_TIMEOUT_S):
            return "callback queue did not drain"
        return None

    def take(self):
        with self._lock:
            events, self._events = self._events, []
        return events
