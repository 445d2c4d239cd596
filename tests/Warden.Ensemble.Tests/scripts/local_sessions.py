"""Local sessions on a 3-member ensemble, told as lines that must read the same on Apache ZooKeeper and Warden.

Usage: local_sessions.py SCENARIO PORT1 PORT2 PORT3
SCENARIO is one of:
  refused   localSessionsEnabled=true, localSessionsUpgradingEnabled=false: ephemeral creates and multis on a
            follower and on the leader, reconnecting a local session to other members, closing, expiry.
  upgraded  both on: the first ephemeral create makes the session global (one extra zxid), mntr's counts.
  read-only readonlymode.enabled on PORT1, whose two peers are down: read-only sessions are local.
Every line names results by error code and by zxid distance from the session's first write, never by absolute
zxid or session id, so that two ensembles can be compared line by line. The client speaks the wire protocol itself:
kazoo has no exception for error -120 (EPHEMERALONLOCALSESSION) and stops its connection on it.
"""
import socket
import struct
import sys
import time

EPHEMERAL, EPHEMERAL_SEQUENTIAL, PERSISTENT = 1, 3, 0
CREATE, EXISTS, SYNC, MULTI, CREATE2, CLOSE = 1, 3, 9, 14, 15, -11
STEP_SECONDS = 20


def string(text):
    data = text.encode()
    return struct.pack(">i", len(data)) + data


WORLD_ALL = struct.pack(">ii", 1, 31) + string("world") + string("anyone")


def create_body(path, flags):
    return string(path) + struct.pack(">i", 1) + b"x" + WORLD_ALL + struct.pack(">i", flags)


def exists_body(path):
    return string(path) + b"\x00"


def multi_body(creates):
    body = b"".join(struct.pack(">i?i", CREATE, False, -1) + create_body(path, flags) for path, flags in creates)
    return body + struct.pack(">i?i", -1, True, -1)


class Client:
    """One connection: a ConnectRequest, then requests answered in order. session_id 0 asks for a new session."""

    def __init__(self, port, session_id=0, password=b"\x00" * 16, timeout_ms=10000, read_only=False):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=STEP_SECONDS)
        self.xid = 0
        connect = struct.pack(">iqiq", 0, 0, timeout_ms, session_id) + struct.pack(">i", len(password)) + password
        self._send(connect + struct.pack(">?", read_only))
        frame = self._read()
        if frame is None:
            self.session_id, self.password, self.timeout_ms, self.read_only = None, b"", 0, False
            return
        _, self.timeout_ms, self.session_id, length = struct.unpack(">iiqi", frame[:20])
        self.password = frame[20:20 + length]
        self.read_only = len(frame) > 20 + length and frame[20 + length] == 1

    def _send(self, payload):
        self.sock.sendall(struct.pack(">i", len(payload)) + payload)

    def _read_exactly(self, count):
        data = b""
        while len(data) < count:
            chunk = self.sock.recv(count - len(data))
            if not chunk:
                return None
            data += chunk
        return data

    def _read(self):
        header = self._read_exactly(4)
        return None if header is None else self._read_exactly(struct.unpack(">i", header)[0])

    def request(self, op, body):
        """(error code, zxid, reply body) of the reply to this request, or None if the server closed the connection."""
        self.xid += 1
        self._send(struct.pack(">ii", self.xid, op) + body)
        while True:
            frame = self._read()
            if frame is None:
                return None
            xid, zxid, err = struct.unpack(">iqi", frame[:16])
            if xid == self.xid:
                return err, zxid, frame[16:]

    def close(self):
        self.sock.close()


def four_letter_word(port, word):
    with socket.create_connection(("127.0.0.1", port), timeout=STEP_SECONDS) as sock:
        sock.sendall(word.encode())
        data = b""
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                return data.decode()
            data += chunk


def session_counts(port):
    lines = four_letter_word(port, "mntr").splitlines()
    wanted = [line.replace("\t", "=") for line in lines if line.split("\t")[0] in ("zk_global_sessions", "zk_local_sessions")]
    return " ".join(sorted(wanted))


def roles(ports):
    followers, leader = [], None
    for port in ports:
        mode = [line for line in four_letter_word(port, "srvr").splitlines() if line.startswith("Mode: ")]
        if mode == ["Mode: leader"]:
            leader = port
        elif mode == ["Mode: follower"]:
            followers.append(port)
    if leader is None or len(followers) != 2:
        raise SystemExit(f"no leader and two followers among {ports}")
    return followers, leader


def multi_errors(body):
    """The error of each op of a multi's reply (0 for a success), in order."""
    errors, offset = [], 0
    while True:
        op, done, err = struct.unpack(">i?i", body[offset:offset + 9])
        offset += 9
        if done:
            return errors
        if op == -1:
            errors.append(struct.unpack(">i", body[offset:offset + 4])[0])
            offset += 4
        else:
            errors.append(0)
            path_length = struct.unpack(">i", body[offset:offset + 4])[0]
            offset += 4 + path_length
            if op == CREATE2:
                offset += 68
    return errors


def say(text):
    print(text, flush=True)


def wait_for_no_local_sessions(port, started, bound):
    while time.monotonic() - started < bound:
        if "zk_local_sessions=0" in session_counts(port):
            return time.monotonic() - started
        time.sleep(0.1)
    return None


def refused(ports):
    followers, leader = roles(ports)
    for name, port in (("follower", followers[0]), ("leader", leader)):
        client = Client(port)
        say(f"{name}: session named after its server {client.session_id >> 56 == ports.index(port) + 1}, timeout {client.timeout_ms}")
        say(f"{name}: {session_counts(port)}")
        err, first, _ = client.request(CREATE, create_body(f"/persistent-{name}", PERSISTENT))
        say(f"{name}: create persistent {err}")
        for label, op, flags in (("create ephemeral", CREATE, EPHEMERAL), ("create2 ephemeral", CREATE2, EPHEMERAL),
                                 ("create2 ephemeral sequential", CREATE2, EPHEMERAL_SEQUENTIAL)):
            err, zxid, _ = client.request(op, create_body(f"/{label.replace(' ', '-')}-{name}", flags))
            say(f"{name}: {label} {err} at +{zxid - first}")
        err, zxid, body = client.request(MULTI, multi_body([(f"/multi-{name}", PERSISTENT), (f"/multi-ephemeral-{name}", EPHEMERAL)]))
        say(f"{name}: multi with an ephemeral {err} ops {multi_errors(body)} at +{zxid - first}")
        err, zxid, body = client.request(MULTI, multi_body([(f"/multi-only-persistent-{name}", PERSISTENT)]))
        say(f"{name}: multi without an ephemeral {err} ops {multi_errors(body)} at +{zxid - first}")
        err, zxid, _ = client.request(EXISTS, exists_body(f"/create-ephemeral-{name}"))
        say(f"{name}: exists of the refused ephemeral {err}")
        say(f"{name}: {session_counts(port)}")
        err, zxid, _ = client.request(CLOSE, b"")
        say(f"{name}: close {err} at +{zxid - first}")
        after = Client(port, client.session_id, client.password)
        say(f"{name}: resume after close gives session {after.session_id}")

    for home_name, home, other_name, other in (("follower", followers[0], "follower", followers[1]),
                                               ("follower", followers[0], "leader", leader),
                                               ("leader", leader, "follower", followers[0])):
        client = Client(home, timeout_ms=6000)
        client.close()
        elsewhere = Client(other, client.session_id, client.password)
        say(f"{home_name}'s local session resumed on another {other_name}: session {elsewhere.session_id} timeout {elsewhere.timeout_ms}")
        back = Client(home, client.session_id, client.password, timeout_ms=6000)
        say(f"{home_name}'s local session resumed on its own server: same {back.session_id == client.session_id}, timeout {back.timeout_ms}")
        err, _, _ = back.request(EXISTS, exists_body("/"))
        say(f"{home_name}'s local session reads after resuming: {err}")
        back.request(CLOSE, b"")
        wrong = Client(home, client.session_id, b"\x01" * 16)
        say(f"{home_name}'s local session with a wrong password: session {wrong.session_id}")

    for name, port in (("follower", followers[0]), ("leader", leader)):
        client = Client(port, timeout_ms=4000)
        session_id, password = client.session_id, client.password
        client.close()
        started = time.monotonic()
        gone = wait_for_no_local_sessions(port, started, 60)
        say(f"{name}: a local session outlives its connection {gone is not None and gone >= 3.0}; expired {gone is not None}")
        again = Client(port, session_id, password)
        say(f"{name}: resume after expiry gives session {again.session_id}")


def upgraded(ports):
    followers, leader = roles(ports)
    for name, port in (("follower", followers[0]), ("leader", leader)):
        client = Client(port)
        err, first, _ = client.request(CREATE, create_body(f"/upgrade-{name}", PERSISTENT))
        say(f"{name}: create persistent {err}; {session_counts(port)}")
        err, zxid, _ = client.request(CREATE, create_body(f"/upgrade-ephemeral-{name}", EPHEMERAL))
        say(f"{name}: create ephemeral {err} at +{zxid - first}; {session_counts(port)}")
        err, zxid, body = client.request(MULTI, multi_body([(f"/upgrade-multi-{name}", EPHEMERAL)]))
        say(f"{name}: multi with an ephemeral {err} ops {multi_errors(body)} at +{zxid - first}")
        err, zxid, _ = client.request(CLOSE, b"")
        say(f"{name}: close of the now global session {err} at +{zxid - first}")

        fresh = Client(port)
        err, first, _ = fresh.request(CREATE, create_body(f"/upgrade-fresh-{name}", PERSISTENT))
        err, zxid, body = fresh.request(MULTI, multi_body([(f"/upgrade-fresh-multi-{name}", PERSISTENT),
                                                           (f"/upgrade-fresh-ephemeral-{name}", EPHEMERAL)]))
        say(f"{name}: a multi upgrades too {err} ops {multi_errors(body)} at +{zxid - first}; {session_counts(port)}")
        fresh.close()
        other = leader if port != leader else followers[0]
        moved = Client(other, fresh.session_id, fresh.password)
        say(f"{name}: an upgraded session resumes on another member: same {moved.session_id == fresh.session_id}")
        err, _, _ = moved.request(SYNC, string("/"))
        err, _, _ = moved.request(EXISTS, exists_body(f"/upgrade-fresh-ephemeral-{name}"))
        say(f"{name}: its ephemeral is there {err}")
        err, zxid, _ = moved.request(CLOSE, b"")
        say(f"{name}: close there {err}")


def read_only(ports):
    port = ports[0]
    started = time.monotonic()
    while time.monotonic() - started < 120:
        try:
            if four_letter_word(port, "isro").strip() == "ro":
                break
        except OSError:
            pass
        time.sleep(0.2)
    say(f"isro {four_letter_word(port, 'isro').strip()}")
    client = Client(port, read_only=True, timeout_ms=4000)
    say(f"read-only client: session {client.session_id is not None and client.session_id != 0}, read-only {client.read_only}, timeout {client.timeout_ms}")
    err, last, _ = client.request(EXISTS, exists_body("/"))
    say(f"read-only client: exists / {err}; {session_counts(port)}")
    for label, op, body in (("create", CREATE, create_body("/ro-persistent", PERSISTENT)),
                            ("create ephemeral", CREATE, create_body("/ro-ephemeral", EPHEMERAL)),
                            ("sync", SYNC, string("/")),
                            ("multi", MULTI, multi_body([("/ro-multi", PERSISTENT)]))):
        err, zxid, _ = client.request(op, body)
        say(f"read-only client: {label} {err} at +{zxid - last}")
    client.close()
    back = Client(port, client.session_id, client.password, read_only=True, timeout_ms=4000)
    say(f"read-only client resumes its local session: same {back.session_id == client.session_id}")
    err, _, _ = back.request(CLOSE, b"")
    say(f"read-only client: close {err}; {session_counts(port)}")
    gone = Client(port, client.session_id, client.password, read_only=True)
    say(f"read-only client after close: session {gone.session_id}")
    writer = Client(port, read_only=False)
    say(f"read-write client: session {writer.session_id}")


def main():
    scenario, ports = sys.argv[1], [int(port) for port in sys.argv[2:5]]
    {"refused": refused, "upgraded": upgraded, "read-only": read_only}[scenario](ports)
    say("done")


if __name__ == "__main__":
    main()
