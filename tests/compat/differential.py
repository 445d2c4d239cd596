#!/usr/bin/python3
"""Differential driver: a seeded random workload from several kazoo sessions, traced.

    /usr/bin/python3 differential.py --server 127.0.0.1:2181 --seed 1 --ops 5000 --out trace.jsonl

Run it against Apache ZooKeeper and against Warden with the same seed and compare the traces
line by line: every line is one step (the op, its normalised answer, and the watch events each
session received because of it) and must be identical.

Why the trace is deterministic:
- The op sequence comes from random.Random(seed) alone. The generator never reads a server
  answer; where it needs a name the server makes up (a sequential node), it guesses from its own
  count of the creates it issued, and a wrong guess is just another NoNode to compare.
- After every op each session syncs and then drains kazoo's callback queue, so the events a
  step caused are all recorded in that step, in the order the server sent them.
- Times are dropped, session ids become labels, children lists are sorted.
"""

import argparse
import random
import sys

from kazoo.client import KazooClient

import zkcommon
from zkcommon import EventLog, SessionLabels, call, dumps, render

SESSIONS = 4
ROOT = "/d"
LEVEL1 = [ROOT + "/" + n for n in ("a", "b", "c", "q")]
LEVEL2 = [p + "/" + n for p in LEVEL1[:3] for n in ("x", "y")]
LEVEL3 = [ROOT + "/a/x/z", ROOT + "/b/y/z"]
SEQUENTIAL_PARENTS = [ROOT, ROOT + "/a", ROOT + "/q"]
READ_ONLY_PATHS = ["/", ROOT, "/zookeeper", "/zookeeper/quota"]


class Generator:
    """Draws op descriptions from the seed; knows nothing of any server."""

    def __init__(self, seed):
        self.rng = random.Random(seed)
        self.sequential_issued = {p: 0 for p in SEQUENTIAL_PARENTS}

    def path(self):
        r = self.rng.random()
        # Weighted towards shallow paths so that parents exist often enough for deep creates,
        # watches and non-empty deletes to happen.
        if r < 0.45:
            return self.rng.choice(LEVEL1)
        if r < 0.80:
            return self.rng.choice(LEVEL2)
        if r < 0.87:
            return self.rng.choice(LEVEL3)
        if r < 0.95:
            return self.guessed_sequential()
        return self.rng.choice(READ_ONLY_PATHS)

    def guessed_sequential(self):
        parent = self.rng.choice(SEQUENTIAL_PARENTS)
        issued = self.sequential_issued[parent]
        return "%s/s-%010d" % (parent, self.rng.randrange(issued + 1))

    def version(self):
        return -1 if self.rng.random() < 0.5 else self.rng.randrange(4)

    def data(self):
        r = self.rng.random()
        if r < 0.1:
            return b""
        return bytes(self.rng.randrange(32, 127) for _ in range(self.rng.randrange(1, 24)))

    def create_spec(self):
        mode = self.rng.choices(["persistent", "ephemeral", "persistent_seq", "ephemeral_seq"], [40, 25, 15, 20])[0]
        if mode.endswith("_seq"):
            parent = self.rng.choice(SEQUENTIAL_PARENTS)
            self.sequential_issued[parent] += 1
            path = parent + "/s-"
        else:
            path = self.path()
        return {"op": "create", "path": path, "data": self.data(), "mode": mode}

    def multi_op(self):
        kind = self.rng.choices(["create", "delete", "set", "check"], [35, 25, 20, 20])[0]
        if kind == "create":
            return self.create_spec()
        if kind == "delete":
            return {"op": "delete", "path": self.path(), "version": self.version()}
        if kind == "set":
            return {"op": "set", "path": self.path(), "data": self.data(), "version": self.version()}
        return {"op": "check", "path": self.path(), "version": self.version()}

    def next(self):
        session = self.rng.randrange(SESSIONS)
        kind = self.rng.choices(
            ["create", "delete", "set", "get", "exists", "children", "sync", "multi", "reopen"],
            [25, 9, 12, 11, 11, 11, 3, 10, 1.5])[0]
        spec = {"session": session}
        if kind == "create":
            spec.update(self.create_spec())
            spec["with_stat"] = self.rng.random() < 0.5
        elif kind == "delete":
            spec.update(op="delete", path=self.path(), version=self.version())
        elif kind == "set":
            spec.update(op="set", path=self.path(), data=self.data(), version=self.version())
        elif kind in ("get", "exists"):
            spec.update(op=kind, path=self.path(), watch=self.rng.random() < 0.5)
        elif kind == "children":
            spec.update(op="children", path=self.path(), watch=self.rng.random() < 0.5,
                        with_stat=self.rng.random() < 0.5)
        elif kind == "sync":
            spec.update(op="sync", path=self.path())
        elif kind == "multi":
            spec.update(op="multi", ops=[self.multi_op() for _ in range(self.rng.randint(1, 4))])
        else:
            spec.update(op="reopen")
        return spec


class Workload:
    def __init__(self, server):
        self.server = server
        self.labels = SessionLabels()
        self.generations = [0] * SESSIONS
        self.sessions = [None] * SESSIONS
        for slot in range(SESSIONS):
            self.open(slot)

    def open(self, slot):
        client = KazooClient(hosts=self.server, timeout=10.0)
        client.start(timeout=zkcommon.OP_TIMEOUT_S)
        label = "s%dg%d" % (slot, self.generations[slot])
        self.generations[slot] += 1
        self.labels.add(client.client_id[0], label)
        self.sessions[slot] = EventLog(client, label)

    def close(self, slot):
        client = self.sessions[slot].client
        client.stop()
        client.close()

    def run(self, spec):
        try:
            return self.run_unguarded(spec)
        except Exception as e:  # noqa: BLE001 - a client-side refusal is an answer too
            return render(e, self.labels)

    def run_unguarded(self, spec):
        log = self.sessions[spec["session"]]
        op = spec["op"]
        if op == "reopen":
            # closeSession removes the session's ephemerals and fires their watches elsewhere.
            self.close(spec["session"])
            self.open(spec["session"])
            return "reopened as " + self.sessions[spec["session"]].label
        client = log.client
        if op == "create":
            result = call(client.create_async(
                spec["path"], spec["data"], ephemeral="ephemeral" in spec["mode"],
                sequence=spec["mode"].endswith("_seq"), include_data=spec["with_stat"]))
        elif op == "delete":
            result = call(client.delete_async(spec["path"], spec["version"]))
        elif op == "set":
            result = call(client.set_async(spec["path"], spec["data"], spec["version"]))
        elif op == "get":
            result = call(client.get_async(spec["path"], log.data_watch if spec["watch"] else None))
        elif op == "exists":
            result = call(client.exists_async(spec["path"], log.data_watch if spec["watch"] else None))
        elif op == "children":
            result = call(client.get_children_async(
                spec["path"], log.child_watch if spec["watch"] else None, include_data=spec["with_stat"]))
        elif op == "sync":
            result = call(client.sync_async(spec["path"]))
        else:
            transaction = client.transaction()
            for sub in spec["ops"]:
                if sub["op"] == "create":
                    transaction.create(sub["path"], sub["data"], ephemeral="ephemeral" in sub["mode"],
                                       sequence=sub["mode"].endswith("_seq"))
                elif sub["op"] == "delete":
                    transaction.delete(sub["path"], sub["version"])
                elif sub["op"] == "set":
                    transaction.set_data(sub["path"], sub["data"], sub["version"])
                else:
                    transaction.check(sub["path"], sub["version"])
            result = call(transaction.commit_async())
        return render(result, self.labels)

    def collect_events(self, sort):
        """Every session's events caused by the step just run, in delivery order."""
        events = {}
        for log in self.sessions:
            problem = log.flush()
            taken = log.take()
            if problem:
                taken.append(["flush", problem])
            if taken:
                # closeSession deletes the ephemerals in an order Apache leaves undefined (a
                # HashSet), so the events of a reopen step are compared as a set.
                events[log.label] = sorted(taken) if sort else taken
        return events

    def tree(self):
        """The final tree under ROOT: every node's data, stat and sorted children."""
        client = self.sessions[0].client
        nodes = {}
        pending = [ROOT]
        while pending and len(nodes) < 100000:
            path = pending.pop()
            answer = call(client.get_async(path))
            children = call(client.get_children_async(path))
            nodes[path] = {"get": render(answer, self.labels), "children": render(children, self.labels)}
            if isinstance(children, list):
                pending.extend(path + "/" + c for c in sorted(children))
        return nodes


def describe(spec):
    """The op as it appears in the trace: bytes as text, keys sorted by dumps()."""
    return {k: (v.decode("latin-1") if isinstance(v, bytes) else
                [describe(s) for s in v] if k == "ops" else v)
            for k, v in spec.items()}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--server", required=True)
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--ops", type=int, required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()

    generator = Generator(args.seed)
    workload = Workload(args.server)
    with open(args.out, "w", encoding="utf-8") as out:
        setup = workload.run({"session": 0, "op": "create", "path": ROOT, "data": b"root",
                              "mode": "persistent", "with_stat": True})
        out.write(dumps({"step": "setup", "result": setup}) + "\n")
        for step in range(args.ops):
            spec = generator.next()
            result = workload.run(spec)
            events = workload.collect_events(sort=spec["op"] == "reopen")
            out.write(dumps({"step": step, "op": describe(spec), "result": result, "events": events}) + "\n")
        out.write(dumps({"step": "final-tree", "tree": workload.tree()}) + "\n")
        for slot in range(SESSIONS):
            workload.close(slot)
    return 0


if __name__ == "__main__":
    sys.exit(main())
