"""Resumes a session on another member with its id and password, and checks that its ephemeral survived.

Usage: resume.py HOST SESSION_ID PASSWORD_HEX PATH
Prints "resumed 0x..." when the server accepted the same session, then "owner 0x..." with the ephemeral
node's owner; "new session 0x..." means the server gave a different session (the old one was lost).
"""
import sys
import logging

from kazoo.client import KazooClient

logging.basicConfig(level=logging.WARNING)


def main():
    host, session_id, password, path = sys.argv[1], int(sys.argv[2]), bytes.fromhex(sys.argv[3]), sys.argv[4]
    client = KazooClient(hosts=host, timeout=10.0, client_id=(session_id, password))
    client.start(timeout=20)
    if client.client_id[0] != session_id:
        print(f"new session 0x{client.client_id[0]:x}", flush=True)
        sys.exit(1)
    print(f"resumed 0x{session_id:x}", flush=True)
    client.sync(path)
    stat = client.exists(path)
    print("owner " + ("none" if stat is None else f"0x{stat.ephemeralOwner:x}"), flush=True)
    client.stop()
    client.close()


if __name__ == "__main__":
    main()
