"""Opens a session on one member, creates an ephemeral znode, and leaves without closing the session.

Usage: detach.py HOST PATH
Prints "session SESSION_ID PASSWORD_HEX" and exits at once (os._exit), so the server sees only the socket
close: the session lives on until its timeout, for another client to resume.
"""
import os
import sys
import logging

from kazoo.client import KazooClient

logging.basicConfig(level=logging.WARNING)


def main():
    host, path = sys.argv[1], sys.argv[2]
    client = KazooClient(hosts=host, timeout=10.0)
    client.start(timeout=20)
    client.create(path, b"moved", ephemeral=True)
    session_id, password = client.client_id
    print(f"session {session_id} {password.hex()}", flush=True)
    os._exit(0)


if __name__ == "__main__":
    main()
