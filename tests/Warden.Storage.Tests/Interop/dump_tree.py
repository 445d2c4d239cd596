#!/usr/bin/python3
"""Prints every znode a ZooKeeper server at argv[1] serves, as JSON lines: path, data, stat and ACL.

Authenticates as digest user:pass so that nodes with that ACL can be read too.
"""
import base64, json, sys
from kazoo.client import KazooClient

zk = KazooClient(hosts=sys.argv[1], auth_data=[("digest", "user:pass")], timeout=15)
zk.start(timeout=30)


def walk(path):
    data, stat = zk.get(path)
    acls, _ = zk.get_acls(path)
    print(json.dumps({
        "path": path,
        "data": base64.b64encode(data).decode() if data is not None else None,
        "stat": [stat.czxid, stat.mzxid, stat.ctime, stat.mtime, stat.version, stat.cversion, stat.aversion,
                 stat.ephemeralOwner, stat.dataLength, stat.numChildren, stat.pzxid],
        "acl": [f"{a.id.scheme}:{a.id.id}:{a.perms}" for a in acls],
    }))
    for child in sorted(zk.get_children(path)):
        walk(path.rstrip("/") + "/" + child)


walk("/")
zk.stop()
zk.close()
