"""Creates a znode through one ensemble member with kazoo, then reads it on each other member after sync.

Usage: create_read.py PATH VALUE CREATE_HOST READ_HOST...
Prints "created PATH on HOST" and then "read HOST VALUE" per member; any error ends with a traceback and a
non-zero exit.
"""
import sys
import logging

from kazoo.client import KazooClient

logging.basicConfig(level=logging.WARNING)


def session(host):
    client = KazooClient(hosts=host, timeout=10.0)
    client.start(timeout=20)
    return client


def main():
    path, value, create_host, read_hosts = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
    writer = session(create_host)
    writer.create(path, value.encode("utf-8"))
    print(f"created {path} on {create_host}", flush=True)
    writer.stop()
    writer.close()
    for host in read_hosts:
        reader = session(host)
        reader.sync(path)
        data, _ = reader.get(path)
        print(f"read {host} {data.decode('utf-8')}", flush=True)
        reader.stop()
        reader.close()


if __name__ == "__main__":
    main()
