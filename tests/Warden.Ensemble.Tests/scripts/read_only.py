"""A kazoo client through a partition that leaves its server without a quorum, driven line by line from the test.

Usage: read_only.py HOST
Connects with read_only=True and writes /ro = "before", then prints "ready". On the line "partitioned" from
stdin it tries a new read-only client and a new read-write client against HOST and prints whether each got a
session, then "checked". On the line "healed" it waits (bounded) until its own client is connected read-write
again, writes /ro = "after" and prints "rw-again". Any unexpected error ends with a traceback and a non-zero exit.
"""
import sys
import threading
import logging

from kazoo.client import KazooClient
from kazoo.protocol.states import KeeperState
from kazoo.handlers.threading import KazooTimeoutError

logging.basicConfig(level=logging.ERROR)


def try_session(host, read_only):
    kind = "read-only" if read_only else "read-write"
    client = KazooClient(hosts=host, read_only=read_only, timeout=3.0, connection_retry={"max_tries": 2})
    try:
        client.start(timeout=5)
        return f"new {kind} client got {client.client_state}"
    except KazooTimeoutError:
        return f"new {kind} client refused"
    finally:
        client.stop()
        client.close()


def wait_for(client, state, seconds):
    reached = threading.Event()

    def listen(_):
        if client.client_state == state:
            reached.set()
            return True
        return False

    client.add_listener(listen)
    if client.client_state == state:
        reached.set()
    if not reached.wait(seconds):
        raise SystemExit(f"no {state} within {seconds} s (state {client.client_state})")


def main():
    host = sys.argv[1]
    client = KazooClient(hosts=host, read_only=True, timeout=6.0)
    client.start(timeout=30)
    client.ensure_path("/ro")
    client.set("/ro", b"before")
    print("ready", flush=True)

    assert sys.stdin.readline().strip() == "partitioned"
    print(try_session(host, read_only=True), flush=True)
    print(try_session(host, read_only=False), flush=True)
    print("checked", flush=True)

    assert sys.stdin.readline().strip() == "healed"
    wait_for(client, KeeperState.CONNECTED, 120)
    client.set("/ro", b"after")
    print("rw-again", flush=True)
    client.stop()
    client.close()


if __name__ == "__main__":
    main()
