"""Crash test: kill -9 a Warden server while clients write, restart it, and check that nothing acknowledged is lost.

Usage: crash.py <warden.dll> <work dir> <rounds> <seed> [<Apache ZooKeeper class path>]

Each round starts the server on the same data directory, runs several writer threads that create znodes
and record which creates the server acknowledged, kills the server with SIGKILL at a random moment, restarts
it, and checks: every acknowledged znode is there with its data; every znode there was actually attempted
(no phantom writes). At the end, Apache ZooKeeper started on a copy of the data directories must read
the same znodes, which shows the log and snapshots Warden wrote hold exactly the tree it serves.
Prints one line per round and a final "crash rounds: N passed, M failed" line; exits non-zero on failure.
"""
import logging, os, random, shutil, signal, socket, subprocess, sys, threading, time
from kazoo.client import KazooClient
from kazoo.exceptions import KazooException, NodeExistsError
from kazoo.handlers.threading import KazooTimeoutError
from kazoo.retry import KazooRetry

WRITERS = 4
ROUND_SECONDS = 6.0


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(port, proc, deadline):
    while time.time() < deadline:
        if proc.poll() is not None:
            return False
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
                s.sendall(b"ruok")
                if s.recv(4) == b"imok":
                    return True
        except OSError:
            pass
        time.sleep(0.05)
    return False


def start(dll, cfg, port, log):
    proc = subprocess.Popen(["dotnet", dll, "server", cfg], stdout=log, stderr=subprocess.STDOUT)
    if not wait_ready(port, proc, time.time() + 30):
        proc.kill()
        raise RuntimeError("server did not become ready; see server.log")
    return proc


def writer(port, name, acked, attempted, stop):
    zk = KazooClient(hosts="127.0.0.1:%d" % port, timeout=4, connection_retry=KazooRetry(max_tries=0))
    try:
        zk.start(timeout=5)
    except (KazooTimeoutError, KazooException, OSError):
        return
    i = len(acked)
    while not stop.is_set():
        path = "/crash/%s-%08d" % (name, i)
        data = ("%s:%d" % (name, i)).encode()
        attempted.add(path)
        try:
            zk.create(path, data)
            acked.append((path, data))
        except NodeExistsError:
            acked.append((path, data))
        except Exception:
            break
        i += 1
    try:
        zk.stop()
        zk.close()
    except Exception:
        pass


def verify(port, acked_by_writer, attempted):
    zk = KazooClient(hosts="127.0.0.1:%d" % port, timeout=10)
    zk.start(timeout=15)
    try:
        present = set("/crash/" + c for c in zk.get_children("/crash"))
        problems = []
        for name, acked in acked_by_writer.items():
            for path, data in acked:
                if path not in present:
                    problems.append("acknowledged %s is missing" % path)
                    continue
                value, _ = zk.get(path)
                if value != data:
                    problems.append("%s holds %r, not %r" % (path, value, data))
        all_attempted = set().union(*attempted.values())
        phantoms = present - all_attempted
        if phantoms:
            problems.append("znodes nobody created: %s" % sorted(phantoms)[:5])
        return problems, len(present)
    finally:
        zk.stop()
        zk.close()


def apache_sees(work, classpath):
    """Starts Apache ZooKeeper on a copy of the data Warden left, and lists /crash as Apache reads it."""
    copy = os.path.join(work, "apache")
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(os.path.join(work, "data"), os.path.join(copy, "data"))
    shutil.copytree(os.path.join(work, "log"), os.path.join(copy, "log"))
    port = free_port()
    cfg = os.path.join(copy, "zoo.cfg")
    with open(cfg, "w") as f:
        f.write("tickTime=2000\ndataDir=%s/data\ndataLogDir=%s/log\nclientPort=%d\nclientPortAddress=127.0.0.1\n"
                "4lw.commands.whitelist=ruok\nadmin.enableServer=false\n" % (copy, copy, port))
    with open(os.path.join(copy, "apache.log"), "ab") as log:
        proc = subprocess.Popen(["java", "-cp", classpath, "org.apache.zookeeper.server.quorum.QuorumPeerMain", cfg],
                                stdout=log, stderr=subprocess.STDOUT)
        try:
            if not wait_ready(port, proc, time.time() + 60):
                raise RuntimeError("Apache ZooKeeper did not start on Warden's data; see apache.log")
            return snapshot_of(port)
        finally:
            proc.kill()
            proc.wait(timeout=15)


def snapshot_of(port):
    """Every /crash znode with its data, as the server on this port serves it."""
    zk = KazooClient(hosts="127.0.0.1:%d" % port, timeout=10)
    zk.start(timeout=15)
    try:
        return {c: zk.get("/crash/" + c)[0] for c in zk.get_children("/crash")}
    finally:
        zk.stop()
        zk.close()


def main():
    logging.getLogger("kazoo").setLevel(logging.CRITICAL)
    dll, work, rounds, seed = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    classpath = sys.argv[5] if len(sys.argv) > 5 else None
    rng = random.Random(seed)
    os.makedirs(work, exist_ok=True)
    port = free_port()
    cfg = os.path.join(work, "zoo.cfg")
    with open(cfg, "w") as f:
        f.write("tickTime=2000\ndataDir=%s/data\ndataLogDir=%s/log\nclientPort=%d\nclientPortAddress=127.0.0.1\n"
                "4lw.commands.whitelist=ruok\nsnapCount=400\npreAllocSize=1024\nadmin.enableServer=false\n" % (work, work, port))
    log = open(os.path.join(work, "server.log"), "ab")
    print("crash test seed %d, %d rounds, port %d" % (seed, rounds, port), flush=True)
    acked = {"w%d" % w: [] for w in range(WRITERS)}
    attempted = {"w%d" % w: set() for w in range(WRITERS)}
    proc = start(dll, cfg, port, log)
    zk = KazooClient(hosts="127.0.0.1:%d" % port)
    zk.start(timeout=15)
    zk.ensure_path("/crash")
    zk.stop()
    zk.close()
    passed = failed = 0
    try:
        for r in range(1, rounds + 1):
            stop = threading.Event()
            threads = [threading.Thread(target=writer, args=(port, name, acked[name], attempted[name], stop), daemon=True)
                       for name in acked]
            for t in threads:
                t.start()
            time.sleep(rng.uniform(0.3, 2.0))
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
            stop.set()
            for t in threads:
                t.join(timeout=ROUND_SECONDS)
            proc = start(dll, cfg, port, log)
            problems, present = verify(port, acked, attempted)
            total_acked = sum(len(a) for a in acked.values())
            if problems:
                failed += 1
                print("round %d: FAILED (%d acknowledged, %d present): %s" % (r, total_acked, present, "; ".join(problems[:5])), flush=True)
            else:
                passed += 1
                print("round %d: ok (%d acknowledged, %d present)" % (r, total_acked, present), flush=True)
        if classpath:
            warden_view = snapshot_of(port)
            proc.kill()
            proc.wait(timeout=10)
            apache_view = apache_sees(work, classpath)
            if apache_view == warden_view:
                print("Apache ZooKeeper reads the same %d znodes from Warden's log and snapshots" % len(apache_view), flush=True)
            else:
                failed += 1
                only_w = sorted(set(warden_view) - set(apache_view))[:5]
                only_a = sorted(set(apache_view) - set(warden_view))[:5]
                print("FAILED: Apache reads a different tree: only in Warden %s, only in Apache %s" % (only_w, only_a), flush=True)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
    print("crash rounds: %d passed, %d failed" % (passed, failed), flush=True)
    if failed:
        print("replay with seed %d" % seed, flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
