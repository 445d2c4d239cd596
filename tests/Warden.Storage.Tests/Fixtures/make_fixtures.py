#!/usr/bin/python3
"""Produces the golden Apache ZooKeeper 3.8 data directory under Fixtures/apache.

Starts Debian's Apache ZooKeeper 3.8.0 on a temporary data dir, drives it with kazoo through every node
type and write kind, stops it, and copies version-2/ here. Usage: /usr/bin/python3 make_fixtures.py
"""
import os, shutil, signal, socket, struct, subprocess, sys, tempfile, time
from collections import namedtuple
from kazoo.client import KazooClient
from kazoo.security import make_digest_acl, OPEN_ACL_UNSAFE
from kazoo.protocol.serialization import write_string, write_buffer, int_struct, long_struct, read_string, stat_struct
from kazoo.protocol.states import ZnodeStat

PORT = 21917
HERE = os.path.dirname(os.path.abspath(__file__))


class CreateExtended(namedtuple('CreateExtended', 'path data acl flags ttl')):
    """create2-shaped request with a different opcode: 19 createContainer or 21 createTTL (kazoo lacks both)."""
    type = 19

    def serialize(self):
        b = bytearray()
        b.extend(write_string(self.path))
        b.extend(write_buffer(self.data))
        b.extend(int_struct.pack(len(self.acl)))
        for acl in self.acl:
            b.extend(int_struct.pack(acl.perms) + write_string(acl.id.scheme) + write_string(acl.id.id))
        b.extend(int_struct.pack(self.flags))
        if self.ttl is not None:
            b.extend(long_struct.pack(self.ttl))
        return b

    @classmethod
    def deserialize(cls, bytes, offset):
        path, offset = read_string(bytes, offset)
        return path, ZnodeStat._make(stat_struct.unpack_from(bytes, offset))


class CreateTtl(CreateExtended):
    type = 21


def call(zk, request):
    result = zk.handler.async_result()
    zk._call(request, result)
    return result.get(timeout=10)


def wait_port(port, up, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        with socket.socket() as s:
            ok = s.connect_ex(("127.0.0.1", port)) == 0
        if ok == up:
            return
        time.sleep(0.2)
    raise SystemExit(f"port {port} did not become {'open' if up else 'closed'}")


def main():
    work = tempfile.mkdtemp(prefix="zkfix")
    data = os.path.join(work, "data")
    os.makedirs(data)
    cfg = os.path.join(work, "zoo.cfg")
    with open(cfg, "w") as f:
        f.write(f"tickTime=2000\ndataDir={data}\nclientPort={PORT}\nclientPortAddress=127.0.0.1\n"
                "admin.enableServer=false\npreAllocSize=64\nsnapCount=20\nextendedTypesEnabled=true\n")
    server = subprocess.Popen(["java", "-cp", "/usr/share/java/*", "org.apache.zookeeper.server.quorum.QuorumPeerMain", cfg],
                              stdout=open(os.path.join(work, "zk.out"), "w"), stderr=subprocess.STDOUT)
    try:
        wait_port(PORT, True)
        zk = KazooClient(hosts=f"127.0.0.1:{PORT}")
        zk.start(timeout=20)
        digest = make_digest_acl("user", "pass", all=True)
        zk.create("/app", b"hello")
        zk.create("/app/seq-", b"s", sequence=True)
        zk.create("/app/seq-", b"t", sequence=True)
        zk.create("/app/data", b"v0")
        zk.set("/app/data", b"v1")
        zk.set("/app/data", b"v2")
        zk.create("/app/secret", b"x", acl=[digest])
        zk.create("/app/acl", b"")
        zk.set_acls("/app/acl", [digest] + list(OPEN_ACL_UNSAFE))
        call(zk, CreateExtended("/app/container", b"c", OPEN_ACL_UNSAFE, 4, None))
        call(zk, CreateTtl("/app/ttl", b"t", OPEN_ACL_UNSAFE, 5, 600000))
        zk.create("/app/gone", b"bye")
        zk.delete("/app/gone")
        tx = zk.transaction()
        tx.create("/multi", b"m")
        tx.create("/multi/a", b"1")
        tx.set_data("/app", b"hello-multi")
        tx.commit()
        # A failed multi is logged as an error txn too.
        tx = zk.transaction()
        tx.create("/multi/b", b"2")
        tx.delete("/nope")
        tx.commit()
        # A session whose ephemerals go when it closes, then one whose ephemerals stay.
        closing = KazooClient(hosts=f"127.0.0.1:{PORT}")
        closing.start(timeout=20)
        closing.create("/app/eph-closed", b"e", ephemeral=True)
        closing.stop()
        closing.close()
        zk.create("/app/eph", b"e", ephemeral=True)
        zk.create("/app/eph-seq-", b"e", ephemeral=True, sequence=True)
        zk.create("/unicode-é", "ü".encode())
        for i in range(12):
            zk.create(f"/bulk{i:02d}", str(i).encode())
        zk.set("/app/data", b"final")
        server.send_signal(signal.SIGTERM)  # stop without closing the session: ephemerals stay in the files
        server.wait(timeout=30)
        zk.stop()
        zk.close()
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
    out = os.path.join(HERE, "apache", "version-2")
    shutil.rmtree(os.path.join(HERE, "apache"), ignore_errors=True)
    shutil.copytree(os.path.join(data, "version-2"), out)
    for name in sorted(os.listdir(out)):
        print(name, os.path.getsize(os.path.join(out, name)))
    shutil.rmtree(work)


if __name__ == "__main__":
    main()
