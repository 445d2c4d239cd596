"""Fault tests for a Warden server's data directories, each run as its own scenario.

Usage: faults.py <warden.dll> <work dir> <scenario>
Scenarios:
  torn-tail       the last log entry cut in half: the server starts, cuts it with a log line, keeps the rest
  corrupt-middle  one byte flipped in an entry with valid entries after it: the server refuses to start and
                  names the file and offset; nothing is silently dropped
  disk-full       dataLogDir on a 4 MiB tmpfs: the server stops with a clear message when the disk fills, and
                  after the disk grows every acknowledged write is still there
  readonly-logdir dataLogDir on a read-only mount: the server refuses to start and says why
  sessions        sessions and their ephemeral nodes survive a restart: a client that comes back within its
                  timeout keeps its session and ephemerals; one that does not is expired and its ephemerals go
Prints "ok: ..." or "FAILED: ..." and exits 0 or 1. Mount scenarios need root (as CI is).
"""
import logging, os, socket, struct, subprocess, sys, time
from kazoo.client import KazooClient
from kazoo.retry import KazooRetry


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, dll, work, data, logdir, port):
        self.dll, self.work, self.port = dll, work, port
        self.cfg = os.path.join(work, "zoo.cfg")
        with open(self.cfg, "w") as f:
            f.write("tickTime=2000\ndataDir=%s\ndataLogDir=%s\nclientPort=%d\nclientPortAddress=127.0.0.1\n"
                    "4lw.commands.whitelist=ruok\npreAllocSize=1024\nadmin.enableServer=false\n" % (data, logdir, port))
        self.proc = None

    def start(self):
        self.output = open(os.path.join(self.work, "server.out"), "wb")
        self.proc = subprocess.Popen(["dotnet", self.dll, "server", self.cfg], stdout=self.output, stderr=subprocess.PIPE)
        deadline = time.time() + 30
        while time.time() < deadline:
            if self.proc.poll() is not None:
                return False
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                    s.sendall(b"ruok")
                    if s.recv(4) == b"imok":
                        return True
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("server neither started nor exited in 30 s")

    def stderr(self):
        return self.proc.stderr.read().decode(errors="replace") if self.proc and self.proc.stderr else ""

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
        if self.proc:
            self.proc.wait(timeout=15)

    def client(self):
        zk = KazooClient(hosts="127.0.0.1:%d" % self.port, timeout=6, connection_retry=KazooRetry(max_tries=0),
                         command_retry=KazooRetry(max_tries=0))
        zk.start(timeout=15)
        return zk


def entries(path):
    """(offset, length) of each log entry: 8-byte checksum, 4-byte length, body, 0x42."""
    with open(path, "rb") as f:
        content = f.read()
    result, offset = [], 16
    while offset + 12 <= len(content):
        length = struct.unpack(">i", content[offset + 8:offset + 12])[0]
        if length <= 0:
            break
        result.append((offset, 8 + 4 + length + 1))
        offset += 8 + 4 + length + 1
    return result


def write_nodes(server, count):
    """Creates /f/n0000... and kills the server with the session still open, so the last entry is a create."""
    zk = server.client()
    zk.ensure_path("/f")
    for i in range(count):
        zk.create("/f/n%04d" % i, b"value-%d" % i)
    server.kill()
    try:
        zk.stop()
        zk.close()
    except Exception:
        pass


def newest_log(logdir):
    version2 = os.path.join(logdir, "version-2")
    logs = sorted((f for f in os.listdir(version2) if f.startswith("log.")), key=lambda n: int(n[4:], 16))
    return os.path.join(version2, logs[-1])


def torn_tail(dll, work):
    data, logdir = os.path.join(work, "data"), os.path.join(work, "log")
    server = Server(dll, work, data, logdir, free_port())
    server.start()
    write_nodes(server, 20)
    log = newest_log(logdir)
    last_offset, last_length = entries(log)[-1]
    with open(log, "r+b") as f:
        f.seek(last_offset + last_length // 2)
        f.write(b"\0" * (last_length - last_length // 2))
    if not server.start():
        return "FAILED: the server would not start after a torn tail: " + server.stderr()
    zk = server.client()
    children = sorted(zk.get_children("/f"))
    zk.stop()
    server.kill()
    out = open(os.path.join(work, "server.out"), "rb").read().decode(errors="replace")
    if children != ["n%04d" % i for i in range(19)]:
        return "FAILED: expected n0000..n0018 after cutting the torn last create, got %d children" % len(children)
    if "Recovered the txn log" not in out:
        return "FAILED: no log line about the cut tail"
    return "ok: the torn last entry was cut and reported; the 19 earlier creates survived"


def corrupt_middle(dll, work):
    data, logdir = os.path.join(work, "data"), os.path.join(work, "log")
    server = Server(dll, work, data, logdir, free_port())
    server.start()
    write_nodes(server, 20)
    log = newest_log(logdir)
    offset, length = entries(log)[10]
    with open(log, "r+b") as f:
        f.seek(offset + 14)
        byte = f.read(1)
        f.seek(offset + 14)
        f.write(bytes([byte[0] ^ 0xFF]))
    started = server.start()
    message = server.stderr()
    server.kill()
    if started:
        return "FAILED: the server started on a log with a corrupt entry in the middle"
    if os.path.basename(log) not in message or str(offset) not in message:
        return "FAILED: the message does not name the file and offset %d: %s" % (offset, message.strip())
    return "ok: refused to start: " + message.strip().splitlines()[-1]


def mount_tmpfs(path, options):
    os.makedirs(path, exist_ok=True)
    result = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", path], capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError("cannot mount a tmpfs at %s (this test needs root): %s" % (path, result.stderr.strip()))


def disk_full(dll, work):
    data, logdir = os.path.join(work, "data"), os.path.join(work, "log")
    mount_tmpfs(logdir, "size=4m")
    try:
        server = Server(dll, work, data, logdir, free_port())
        server.start()
        zk = server.client()
        zk.ensure_path("/f")
        acknowledged, payload = [], b"x" * 200000
        try:
            for i in range(100):
                zk.create("/f/big%03d" % i, payload)
                acknowledged.append("big%03d" % i)
        except Exception:
            pass
        try:
            zk.stop()
            zk.close()
        except Exception:
            pass
        try:
            server.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            return "FAILED: the server kept running with a full disk"
        message = server.stderr()
        if server.proc.returncode == 0 or "No space left" not in message:
            return "FAILED: exit %s without a clear message: %s" % (server.proc.returncode, message.strip())
        if len(acknowledged) >= 100:
            return "FAILED: 20 MB were acknowledged on a 4 MiB disk"
        subprocess.run(["mount", "-o", "remount,size=64m", logdir], check=True)
        if not server.start():
            return "FAILED: would not start after the disk grew: " + server.stderr()
        zk = server.client()
        present = set(zk.get_children("/f"))
        zk.stop()
        zk.close()
        server.kill()
        missing = [p for p in acknowledged if p not in present]
        if missing:
            return "FAILED: acknowledged writes lost after a full disk: %s" % missing[:5]
        return "ok: stopped with \"%s\"; all %d acknowledged writes were there after restart" % (
            message.strip().splitlines()[-1][:160], len(acknowledged))
    finally:
        subprocess.run(["umount", "-l", logdir])


def readonly_logdir(dll, work):
    data, logdir = os.path.join(work, "data"), os.path.join(work, "log")
    mount_tmpfs(logdir, "size=1m,ro")
    try:
        server = Server(dll, work, data, logdir, free_port())
        started = server.start()
        message = server.stderr()
        server.kill()
        if started:
            return "FAILED: the server started with a read-only dataLogDir"
        if "dataLogDir" not in message and logdir not in message:
            return "FAILED: the message does not name the directory: " + message.strip()
        return "ok: refused to start: " + message.strip().splitlines()[-1]
    finally:
        subprocess.run(["umount", "-l", logdir])


def sessions(dll, work):
    data, logdir = os.path.join(work, "data"), os.path.join(work, "log")
    server = Server(dll, work, data, logdir, free_port())
    server.start()
    returning = KazooClient(hosts="127.0.0.1:%d" % server.port, timeout=10)
    returning.start(timeout=15)
    returning.create("/kept", b"", ephemeral=True)
    leaving = KazooClient(hosts="127.0.0.1:%d" % server.port, timeout=4)
    leaving.start(timeout=15)
    leaving.create("/gone", b"", ephemeral=True)
    session_before = returning.client_id[0]
    leaving_session = leaving.client_id[0]
    server.kill()
    # The leaving client stops retrying, so only the returning one can resume its session after the restart.
    leaving.stop()
    if not server.start():
        return "FAILED: the server would not restart: " + server.stderr()
    deadline = time.time() + 30
    while time.time() < deadline and not (returning.connected and returning.exists("/kept")):
        time.sleep(0.1)
    resumed = returning.connected and returning.client_id[0] == session_before and returning.exists("/kept") is not None
    watcher = server.client()
    deadline = time.time() + 30
    while time.time() < deadline and watcher.exists("/gone") is not None:
        time.sleep(0.2)
    gone = watcher.exists("/gone") is None
    kept = watcher.exists("/kept")
    watcher.stop()
    returning.stop()
    server.kill()
    if not resumed:
        return "FAILED: the client did not resume session 0x%x with its ephemeral after the restart" % session_before
    if not gone:
        return "FAILED: session 0x%x never came back, yet its ephemeral /gone outlived its timeout" % leaving_session
    if kept is None or kept.ephemeralOwner != session_before:
        return "FAILED: /kept lost its owner"
    return "ok: session 0x%x resumed with its ephemeral after the restart; session 0x%x expired and /gone went" % (
        session_before, leaving_session)


def main():
    logging.getLogger("kazoo").setLevel(logging.CRITICAL)
    dll, work, scenario = sys.argv[1], sys.argv[2], sys.argv[3]
    os.makedirs(work, exist_ok=True)
    scenarios = {"torn-tail": torn_tail, "corrupt-middle": corrupt_middle, "disk-full": disk_full,
                 "readonly-logdir": readonly_logdir, "sessions": sessions}
    verdict = scenarios[scenario](dll, work)
    print(verdict, flush=True)
    return 0 if verdict.startswith("ok") else 1


if __name__ == "__main__":
    sys.exit(main())
