"""Creates sequential znodes under PARENT with kazoo as fast as the ensemble answers, until stdin closes.

Usage: acked_writer.py HOSTS PARENT
Prints "ack NAME" for every create the ensemble acknowledged, "lost" for a create whose outcome is unknown
(ConnectionLoss: it may or may not exist), and "done SESSION_ID" at the end, once stdin is closed. A session
expiry or any other error ends it with a traceback and a non-zero exit.
"""
import sys
import threading
import logging

from kazoo.client import KazooClient, KazooState
from kazoo.exceptions import ConnectionLoss

logging.basicConfig(level=logging.WARNING)


def main():
    hosts, parent = sys.argv[1], sys.argv[2]
    client = KazooClient(hosts=hosts, timeout=10.0)
    connected = threading.Event()
    expired = threading.Event()

    def on_state(state):
        if state == KazooState.CONNECTED:
            connected.set()
        else:
            connected.clear()
        if state == KazooState.LOST:
            expired.set()

    client.add_listener(on_state)
    client.start(timeout=20)
    connected.set()
    session_id = client.client_id[0]
    client.ensure_path(parent)
    stop = threading.Event()
    threading.Thread(target=lambda: (sys.stdin.read(), stop.set()), daemon=True).start()
    print("started", flush=True)
    while not stop.is_set():
        if expired.is_set():
            raise SystemExit("session expired")
        try:
            path = client.create(parent + "/n-", b"x", sequence=True)
            print("ack " + path.rsplit("/", 1)[1], flush=True)
        except ConnectionLoss:
            print("lost", flush=True)
            if not connected.wait(30):
                raise SystemExit("no connection for 30 s")
    if client.client_id[0] != session_id:
        raise SystemExit("the session changed")
    print("done %x" % session_id, flush=True)
    client.stop()
    client.close()


if __name__ == "__main__":
    main()
