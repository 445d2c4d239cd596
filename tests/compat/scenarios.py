#!/usr/bin/python3
"""Feature scenarios through kazoo: every client operation in scope, printed as a transcript.

    /usr/bin/python3 scenarios.py --server 127.0.0.1:2181 [--only NAME]

Run against Apache ZooKeeper and against Warden on fresh servers; the transcripts must be equal.
Each line is `[scenario] step: answer`. Answers are normalised by zkcommon (no times, session ids
as labels, children sorted); watch events are listed in the order kazoo delivered them.
"""

import argparse
import sys
import threading

from kazoo.client import KazooClient

import zkcommon
from cutproxy import CutProxy
from zkcommon import EventLog, SessionLabels, call, render

# The shortest session Apache allows with tickTime=2000 (2 x tickTime): expiry takes seconds.
SHORT_SESSION_S = 4.0


class Transcript:
    def __init__(self):
        self.labels = SessionLabels()
        self.scenario = "?"
        self.counter = 0

    def line(self, step, value):
        print("[%s] %s: %s" % (self.scenario, step, zkcommon.dumps(value)), flush=True)

    def answer(self, step, async_result):
        self.line(step, render(call(async_result), self.labels))

    def events(self, step, *logs):
        """Flushes each session and prints what it received, in order."""
        for log in logs:
            problem = log.flush()
            events = log.take()
            if problem:
                events.append(["flush", problem])
            self.line("%s events %s" % (step, log.label), events)

    def client(self, label, hosts, timeout=10.0, client_id=None):
        client = KazooClient(hosts=hosts, timeout=timeout, client_id=client_id)
        client.start(timeout=zkcommon.OP_TIMEOUT_S)
        self.labels.add(client.client_id[0], label)
        log = EventLog(client, label)
        log.states = []
        log.state_changed = threading.Condition()

        def on_state(state):
            with log.state_changed:
                log.states.append(state)
                log.state_changed.notify_all()

        client.add_listener(on_state)
        return log


def wait_state(log, state, timeout):
    with log.state_changed:
        return log.state_changed.wait_for(lambda: state in log.states, timeout)


def stop(log):
    log.client.stop()
    log.client.close()


def crud(t, server):
    a = t.client("A", server)
    c = a.client
    t.answer("create persistent /crud", c.create_async("/crud", b"v0"))
    t.answer("create2 persistent /crud/p", c.create_async("/crud/p", b"p", include_data=True))
    t.answer("create ephemeral /crud/e", c.create_async("/crud/e", b"e", ephemeral=True, include_data=True))
    t.answer("create persistent sequential", c.create_async("/crud/s-", b"s", sequence=True, include_data=True))
    t.answer("create ephemeral sequential", c.create_async("/crud/s-", b"s", ephemeral=True, sequence=True, include_data=True))
    t.answer("create existing", c.create_async("/crud/p", b"again"))
    t.answer("create without parent", c.create_async("/crud/none/x", b""))
    t.answer("create under ephemeral", c.create_async("/crud/e/x", b""))
    t.answer("exists present", c.exists_async("/crud/p"))
    t.answer("exists missing", c.exists_async("/crud/missing"))
    t.answer("get", c.get_async("/crud"))
    t.answer("get missing", c.get_async("/crud/missing"))
    t.answer("set any version", c.set_async("/crud/p", b"p1", -1))
    t.answer("set right version", c.set_async("/crud/p", b"p2", 1))
    t.answer("set bad version", c.set_async("/crud/p", b"p3", 7))
    t.answer("set missing", c.set_async("/crud/missing", b"", -1))
    t.answer("children", c.get_children_async("/crud"))
    t.answer("children with stat", c.get_children_async("/crud", include_data=True))
    t.answer("children of missing", c.get_children_async("/crud/missing"))
    t.answer("root children", c.get_children_async("/"))
    t.answer("sync", c.sync_async("/crud"))
    t.answer("delete non-empty", c.delete_async("/crud", -1))
    t.answer("delete bad version", c.delete_async("/crud/p", 0))
    t.answer("delete right version", c.delete_async("/crud/p", 2))
    t.answer("delete missing", c.delete_async("/crud/p", -1))
    t.answer("get after deletes", c.get_async("/crud"))
    t.answer("delete /zookeeper", c.delete_async("/zookeeper", -1))
    t.answer("get /zookeeper/config", c.exists_async("/zookeeper/config"))
    stop(a)


def transactions(t, server):
    a = t.client("A", server)
    c = a.client
    c.create("/tx", b"")
    tx = c.transaction()
    tx.create("/tx/a", b"a")
    tx.check("/tx", 0)
    tx.set_data("/tx/a", b"a1", 0)
    tx.create("/tx/s-", b"", sequence=True)
    tx.create("/tx/e", b"", ephemeral=True)
    tx.delete("/tx/a", 1)
    t.answer("multi all succeed", tx.commit_async())
    tx = c.transaction()
    tx.create("/tx/b", b"b")
    tx.check("/tx", 42)
    tx.set_data("/tx/e", b"", -1)
    t.answer("multi with failing check", tx.commit_async())
    t.answer("failed multi left no /tx/b", c.exists_async("/tx/b"))
    tx = c.transaction()
    tx.delete("/tx", -1)
    t.answer("multi failing first op", tx.commit_async())
    tx = c.transaction()
    tx.create("/tx/c", b"")
    tx.create("/tx/c", b"")
    t.answer("multi creating twice", tx.commit_async())
    tx = c.transaction()
    tx.check("/tx/missing", -1)
    t.answer("multi check of missing node", tx.commit_async())
    t.answer("state after transactions", c.get_children_async("/tx", include_data=True))
    stop(a)


def watches(t, server):
    a = t.client("A", server)
    b = t.client("B", server)
    b.client.create("/w", b"0")
    b.client.create("/w/c", b"")
    t.answer("A get /w with watch", a.client.get_async("/w", a.data_watch))
    t.answer("A exists /w/new with watch", a.client.exists_async("/w/new", a.data_watch))
    t.answer("A children /w with watch", a.client.get_children_async("/w", a.child_watch))
    t.answer("A exists /w/c with watch", a.client.exists_async("/w/c", a.data_watch))
    t.answer("B set /w", b.client.set_async("/w", b"1", -1))
    t.events("after set", a, b)
    t.answer("B set /w again (one-shot: no event)", b.client.set_async("/w", b"2", -1))
    t.events("after second set", a)
    t.answer("B create /w/new", b.client.create_async("/w/new", b""))
    t.events("after create", a)
    t.answer("B delete /w/c", b.client.delete_async("/w/c", -1))
    t.events("after delete", a)
    t.answer("A children /w with stat and watch", a.client.get_children_async("/w", a.child_watch, include_data=True))
    t.answer("A get /w/new with watch", a.client.get_async("/w/new", a.data_watch))
    t.answer("B multi: delete /w/new, create /w/m", _multi(b.client, [("delete", "/w/new"), ("create", "/w/m")]))
    t.events("after multi", a)
    t.answer("A own write triggers own watch", a.client.get_async("/w", a.data_watch))
    t.answer("A set /w", a.client.set_async("/w", b"3", -1))
    t.events("after own set", a)
    stop(a)
    stop(b)


def _multi(client, ops):
    tx = client.transaction()
    for op, path in ops:
        if op == "delete":
            tx.delete(path, -1)
        else:
            tx.create(path, b"")
    return tx.commit_async()


def reconnect(t, server):
    """A loses its connection and comes back to the same session; then a new client process
    resumes it by id and password.

    kazoo 2.8 drops its watchers when the connection breaks (each fires a NONE event) and never
    sends setWatches, so the missed-event path of setWatches is covered by the raw-socket tests.
    """
    proxy = CutProxy(server)
    try:
        b = t.client("B", server)
        b.client.create("/r", b"0")
        a = t.client("A", proxy.address)
        session = a.client.client_id
        t.answer("A ephemeral /r/a-eph", a.client.create_async("/r/a-eph", b"", ephemeral=True))
        t.answer("A get /r with watch", a.client.get_async("/r", a.data_watch))
        proxy.cut()
        t.line("A lost its connection", wait_state(a, "SUSPENDED", zkcommon.OP_TIMEOUT_S))
        t.answer("B set /r", b.client.set_async("/r", b"1", -1))
        t.answer("B create /r/new", b.client.create_async("/r/new", b""))
        with a.state_changed:
            a.states.clear()
        proxy.heal()
        t.line("A reconnected", wait_state(a, "CONNECTED", 30))
        t.line("A kept its session", a.client.client_id == session)
        t.events("after reconnect", a, b)
        t.answer("A reads what it missed", a.client.get_children_async("/r", include_data=True))
        t.answer("A's ephemeral survived", b.client.exists_async("/r/a-eph"))

        # A second client takes over the session by id and password (as after a process restart).
        stop_without_close(a, proxy)
        a2 = t.client("A", server, client_id=session)
        t.line("A2 has A's session", a2.client.client_id == session)
        t.answer("A2 sees the ephemeral", a2.client.exists_async("/r/a-eph"))
        with a2.state_changed:
            a2.states.clear()
        t.line("a wrong password gets a new session, not A's", _resumes(server, (session[0], b"\x00" * 16)))
        # Apache closes the session's current connection before it checks the password, so the
        # attempt knocks A2 off; A2 comes back on its own.
        t.line("the attempt dropped A2's connection", wait_state(a2, "SUSPENDED", zkcommon.OP_TIMEOUT_S))
        t.line("A2 reconnected", wait_state(a2, "CONNECTED", 30))
        stop(a2)
        t.answer("closeSession removed the ephemeral", b.client.exists_async("/r/a-eph"))
        stop(b)
    finally:
        proxy.close()


def stop_without_close(log, proxy):
    """Drops a client without closeSession: cut its proxy first, so the close it queues on
    stop() has no connection to go out on and the session lives on in the server."""
    proxy.cut()
    log.client.stop()
    log.client.close()


def _resumes(server, client_id):
    """Whether a client given this id and password ends up in that session. (kazoo, refused with
    an expired session, quietly starts a new one.)"""
    client = KazooClient(hosts=server, timeout=SHORT_SESSION_S, client_id=client_id)
    try:
        client.start(timeout=5)
        return "resumed" if client.client_id[0] == client_id[0] else "new session"
    except Exception as e:  # noqa: BLE001
        return type(e).__name__
    finally:
        client.stop()
        client.close()


def expiry(t, server):
    """A session cut off for longer than its timeout expires and its ephemerals go."""
    proxy = CutProxy(server)
    try:
        b = t.client("B", server)
        e = t.client("E", proxy.address, timeout=SHORT_SESSION_S)
        t.answer("E ephemeral /x-eph", e.client.create_async("/x-eph", b"", ephemeral=True, include_data=True))
        t.answer("B exists /x-eph with watch", b.client.exists_async("/x-eph", b.data_watch))
        proxy.cut()
        t.line("B saw the ephemeral go", b.wait_for(1, timeout=30))
        t.events("after expiry", b)
        t.answer("ephemeral gone", b.client.exists_async("/x-eph"))
        proxy.heal()
        t.line("E learns its session expired", wait_state(e, "LOST", 30))
        stop(e)
        stop(b)
    finally:
        proxy.close()


def close_session(t, server):
    b = t.client("B", server)
    c = t.client("C", server)
    t.answer("C ephemeral /c-eph", c.client.create_async("/c-eph", b"", ephemeral=True))
    t.answer("C ephemeral sequential", c.client.create_async("/c-eph-", b"", ephemeral=True, sequence=True))
    t.answer("B exists /c-eph with watch", b.client.exists_async("/c-eph", b.data_watch))
    t.answer("B children / with watch", b.client.get_children_async("/", b.child_watch))
    stop(c)
    t.events("after C closed", b)
    t.answer("root after close", b.client.get_children_async("/"))
    stop(b)


def special_paths(t, server):
    """Odd and reserved paths. Apache validates paths on writes only (a control character
    reads as NoNode but writes as BadArguments), refuses to delete / and the /zookeeper tree,
    lets anyone set data on /, /zookeeper and /zookeeper/quota, and protects /zookeeper/config
    with a read-only ACL. /zookeeper shows the computed cversion (stored x 2 - children)."""
    a = t.client("A", server)
    c = a.client
    for path in ["/odd\x01name", "/", "/zookeeper", "/zookeeper/quota", "/zookeeper/config"]:
        t.answer("get " + repr(path), c.get_async(path))
        t.answer("children " + repr(path), c.get_children_async(path, include_data=True))
        t.answer("create " + repr(path), c.create_async(path, b""))
        t.answer("set " + repr(path), c.set_async(path, b"x", -1))
        t.answer("delete " + repr(path), c.delete_async(path, -1))
        t.answer("multi check " + repr(path), _check(c, path))
    t.answer("create under /zookeeper", c.create_async("/zookeeper/mine", b""))
    t.answer("sync of a missing path", c.sync_async("/no/such/path"))
    t.answer("large data (1 MB less some)", c.create_async("/big", b"x" * 1000000, include_data=True))
    t.answer("get large data length", c.exists_async("/big"))
    stop(a)


def pipelined(t, server):
    """Hundreds of requests in flight on one session: replies must come back in request order,
    and a watch event before the reply of the write that fired it."""
    a = t.client("A", server)
    c = a.client
    c.create("/p", b"")
    pending = []
    for i in range(60):
        node = "/p/n%d" % (i % 7)
        pending.append(("create %s" % node, c.create_async(node, b"%d" % i, ephemeral=i % 3 == 0)))
        pending.append(("get %s watch" % node, c.get_async(node, a.data_watch)))
        pending.append(("children /p watch", c.get_children_async("/p", a.child_watch)))
        pending.append(("set %s" % node, c.set_async(node, b"s%d" % i, i % 4 - 1)))
        if i % 2:
            pending.append(("delete %s" % node, c.delete_async(node, -1)))
        if i % 10 == 0:
            tx = c.transaction()
            tx.create("/p/m%d" % i, b"")
            tx.check("/p", i)
            pending.append(("multi %d" % i, tx.commit_async()))
    pending.append(("empty multi", c.transaction().commit_async()))
    for name, result in pending:
        t.answer(name, result)
    t.events("after the pipeline", a)
    stop(a)


def _check(client, path):
    tx = client.transaction()
    tx.check(path, 0)
    return tx.commit_async()


def features(t, server):
    """ACLs, containers, TTL nodes and persistent watches, step by step. Needs a server with
    extendedTypesEnabled=true and a short znode.container.checkIntervalMs."""
    from kazoo.security import ACL, Id
    import zkextra
    a = t.client("A", server)
    b = t.client("B", server)
    events = zkextra.RawEvents(a.client)
    alice = [ACL(31, Id("digest", zkextra.digest_id("alice", "pw")))]
    t.answer("A addauth alice", a.client.add_auth_async("digest", "alice:pw"))
    t.answer("A whoAmI", zkextra.send(a.client, zkextra.WhoAmI()))
    t.answer("A create /acl for alice", a.client.create_async("/acl", b"s", acl=alice))
    t.answer("B read /acl", b.client.get_async("/acl"))
    t.line("B getACL /acl (masked)", render_acl_plain(call(b.client.get_acls_async("/acl"))))
    t.line("A getACL /acl", render_acl_plain(call(a.client.get_acls_async("/acl"))))
    t.answer("B setACL /acl", b.client.set_acls_async("/acl", [ACL(31, Id("world", "anyone"))]))
    t.answer("A setACL /acl bad version", a.client.set_acls_async("/acl", alice, 5))
    t.answer("B create with auth ACL and no auth", b.client.create_async("/x", b"", acl=[ACL(31, Id("auth", ""))]))
    t.answer("A add persistent recursive watch on /", zkextra.send(a.client, zkextra.AddWatch("/", 1)))
    t.answer("B create container /box", zkextra.send(b.client, zkextra.CreateContainer("/box", b"", [ACL(31, Id("world", "anyone"))])))
    t.answer("B create /box/item", b.client.create_async("/box/item", b""))
    t.answer("B delete /box/item", b.client.delete_async("/box/item", -1))
    t.line("the server removed /box", wait_gone(b.client, "/box"))
    t.answer("B create TTL node of 1 ms", zkextra.send(b.client, zkextra.CreateTTL("/brief", b"", [ACL(31, Id("world", "anyone"))], 5, 1)))
    t.line("the server removed /brief", wait_gone(b.client, "/brief"))
    t.answer("B create TTL node of a day", zkextra.send(b.client, zkextra.CreateTTL("/day", b"", [ACL(31, Id("world", "anyone"))], 5, 86400000)))
    t.answer("B set /acl (A sees it)", b.client.set_async("/acl", b"t", -1))
    a.client.sync("/")
    t.line("A's recursive events", events.take())
    t.answer("A removeWatches / any", zkextra.send(a.client, zkextra.RemoveWatches("/", 3)))
    t.answer("A checkWatches / any", zkextra.send(a.client, zkextra.CheckWatches("/", 3)))
    stop(a)
    stop(b)


def render_acl_plain(value):
    if isinstance(value, tuple):
        return [[x.perms, x.id.scheme, x.id.id] for x in value[0]]
    return render(value, None)


def wait_gone(client, path):
    """Bounded poll: the container timer gives nothing to wait on."""
    import time
    deadline = time.monotonic() + zkcommon.OP_TIMEOUT_S
    while time.monotonic() < deadline:
        if call(client.exists_async(path)) is None:
            return True
        time.sleep(0.02)
    return False


SCENARIOS = [("crud", crud), ("transactions", transactions), ("watches", watches),
             ("reconnect", reconnect), ("close-session", close_session), ("expiry", expiry),
             ("special-paths", special_paths), ("pipelined", pipelined),
             ("features", features)]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--server", required=True)
    parser.add_argument("--only", help="run one scenario: " + ", ".join(n for n, _ in SCENARIOS))
    args = parser.parse_args()
    if args.only and args.only not in dict(SCENARIOS):
        parser.error("unknown scenario " + args.only)
    t = Transcript()
    for name, scenario in SCENARIOS:
        if args.only and args.only != name:
            continue
        t.scenario = name
        scenario(t, args.server)
    return 0


if __name__ == "__main__":
    sys.exit(main())
