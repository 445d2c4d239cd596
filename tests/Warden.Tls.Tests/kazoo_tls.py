"""Connects kazoo over TLS and runs one action; prints one line that the test reads.

usage: kazoo_tls.py PORT CA CERT|- KEY|- ACTION [PATH]
ACTION: get (print the data of PATH), ls (the children of PATH)
"""
import sys
import logging

logging.basicConfig(level=logging.CRITICAL)
from kazoo.client import KazooClient
from kazoo.exceptions import NoAuthError

port, ca, cert, key, action = sys.argv[1:6]
path = sys.argv[6] if len(sys.argv) > 6 else "/"
zk = KazooClient(hosts="127.0.0.1:" + port, use_ssl=True, ca=ca,
                 certfile=None if cert == "-" else cert, keyfile=None if key == "-" else key,
                 timeout=4, connection_retry={"max_tries": 0})
try:
    zk.start(timeout=6)
except Exception as e:
    print("NOT CONNECTED " + type(e).__name__)
    sys.exit(0)
try:
    if action == "get":
        print("DATA " + zk.get(path)[0].decode())
    else:
        print("CHILDREN " + ",".join(sorted(zk.get_children(path))))
except NoAuthError:
    print("NOAUTH")
finally:
    zk.stop()
    zk.close()
