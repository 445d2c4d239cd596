"""Creates an ephemeral znode and holds its session until killed.

Usage: hold_ephemeral.py HOST PATH SESSION_TIMEOUT_SECONDS
Prints "holding PATH session 0x..." once the node exists, then blocks on stdin; the test kills this process
(SIGKILL), so the session is never closed and must expire on the server.
"""
import sys
import logging

from kazoo.client import KazooClient

logging.basicConfig(level=logging.WARNING)


def main():
    host, path, timeout = sys.argv[1], sys.argv[2], float(sys.argv[3])
    client = KazooClient(hosts=host, timeout=timeout)
    client.start(timeout=20)
    client.create(path, b"held", ephemeral=True)
    print(f"holding {path} session 0x{client.client_id[0]:x}", flush=True)
    sys.stdin.read()


if __name__ == "__main__":
    main()
