#!/usr/bin/env bash
# The rolling migration walk between Apache ZooKeeper 3.8 and Warden, on one machine:
#
#   1. three Apache servers (QuorumPeerMain) form an ensemble on 127.0.0.1, and a kazoo session writes to it
#      without pause, remembering every create the ensemble acknowledged;
#   2. one member at a time, followers first and the leader last, is stopped (SIGTERM) and Warden is started on
#      the same zoo.cfg, myid, dataDir and dataLogDir; the walk waits until the ensemble serves with that member
#      back in it and the writer has made progress, and prints `warden status` for all three;
#   3. once all three are Warden, the same walk goes back to Apache;
#   4. at the end the writer stops, and every member must hold every acknowledged create, and the writer's
#      session must be the one it started with.
#
# Usage: scripts/migration-walk.sh [--keep] [--one-way] [--dir DIR]
#   --keep      keep DIR (zoo.cfg, data, each server's output) afterwards; it is deleted on success otherwise
#   --one-way   stop once all three members run Warden
#   --dir DIR   where to put the three members (default: a new directory under /tmp)
#
# Needs: java with Debian's zookeeper package (or WARDEN_ZK_CLASSPATH), python3 with kazoo (WARDEN_PYTHON), and a
# built warden (WARDEN, the command that runs it; default: dotnet src/Warden.Cli/bin/Release/net10.0/warden.dll).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
python="${WARDEN_PYTHON:-/usr/bin/python3}"
java="${WARDEN_JAVA:-java}"
classpath="${WARDEN_ZK_CLASSPATH:-/usr/share/java/zookeeper.jar:/usr/share/java/slf4j-simple.jar}"
read -r -a warden <<< "${WARDEN:-dotnet $here/src/Warden.Cli/bin/Release/net10.0/warden.dll}"
writer_script="$here/tests/Warden.Ensemble.Tests/scripts/acked_writer.py"
keep=0
one_way=0
root=""
while [ $# -gt 0 ]; do
  case "$1" in
    --keep) keep=1 ;;
    --one-way) one_way=1 ;;
    --dir) shift; root="$1" ;;
    *) echo "usage: $0 [--keep] [--one-way] [--dir DIR]" >&2; exit 2 ;;
  esac
  shift
done
[ -n "$root" ] || root="$(mktemp -d /tmp/warden-migration-walk.XXXXXX)"
mkdir -p "$root"

# Nine free ports on 127.0.0.1 (client, quorum, election for each member), held together so none repeats.
read -r -a ports <<< "$("$python" - <<'EOF'
import socket
held = [socket.socket() for _ in range(9)]
for s in held:
    s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in held))
for s in held:
    s.close()
EOF
)"
client_port() { echo "${ports[$(( ($1 - 1) * 3 ))]}"; }
hosts="127.0.0.1:$(client_port 1),127.0.0.1:$(client_port 2),127.0.0.1:$(client_port 3)"

declare -A pid kind
for id in 1 2 3; do
  dir="$root/server$id"
  mkdir -p "$dir/data" "$dir/datalog"
  echo "$id" > "$dir/data/myid"
  {
    echo "tickTime=500"
    echo "initLimit=10"
    echo "syncLimit=5"
    echo "dataDir=$dir/data"
    echo "dataLogDir=$dir/datalog"
    echo "clientPort=$(client_port "$id")"
    echo "clientPortAddress=127.0.0.1"
    echo "4lw.commands.whitelist=*"
    echo "admin.enableServer=false"
    for peer in 1 2 3; do
      echo "server.$peer=127.0.0.1:${ports[$(( (peer - 1) * 3 + 1 ))]}:${ports[$(( (peer - 1) * 3 + 2 ))]}"
    done
  } > "$dir/zoo.cfg"
done

start() { # id kind. A server must not hold fd 3, the writer's input, or the writer would never see it close.
  local id="$1" dir="$root/server$1"
  kind[$id]="$2"
  echo "--- start $2 ---" >> "$dir/output.log"
  if [ "$2" = apache ]; then
    (cd "$dir" && exec "$java" -Xmx256m -cp "$classpath" org.apache.zookeeper.server.quorum.QuorumPeerMain zoo.cfg >> output.log 2>&1 3>&-) &
  else
    (cd "$dir" && exec "${warden[@]}" server zoo.cfg >> output.log 2>&1 3>&-) &
  fi
  pid[$id]=$!
}

stop() { # id: SIGTERM, then SIGKILL after 15 s
  local id="$1" waited=0
  kill -TERM "${pid[$id]}" 2>/dev/null || true
  while kill -0 "${pid[$id]}" 2>/dev/null; do
    if [ $waited -ge 150 ]; then kill -KILL "${pid[$id]}" 2>/dev/null || true; fi
    sleep 0.1
    waited=$((waited + 1))
  done
  wait "${pid[$id]}" 2>/dev/null || true
}

mode() { # id -> leader|follower|... (empty when the member does not answer)
  "${warden[@]}" status --table --timeout 2000 "127.0.0.1:$(client_port "$1")" 2>/dev/null |
    awk 'NR == 2 { print $2 }' || true
}

wait_for_quorum() { # every member answers leader or follower, one leader, within 90 s
  local deadline=$((SECONDS + 90)) modes
  while [ $SECONDS -lt $deadline ]; do
    modes="$(mode 1) $(mode 2) $(mode 3)"
    if [ "$(tr ' ' '\n' <<< "$modes" | grep -c '^leader$')" = 1 ] &&
       [ "$(tr ' ' '\n' <<< "$modes" | grep -c '^follower$')" = 2 ]; then
      return 0
    fi
    sleep 0.2
  done
  echo "no quorum of all three within 90 s (modes: $modes); see $root/server*/output.log" >&2
  return 1
}

acks() { grep -c '^ack ' "$root/writer.out" 2>/dev/null || true; }

wait_for_writes() { # the writer acknowledges 20 more creates within 60 s
  local target=$(( $(acks) + 20 )) deadline=$((SECONDS + 60))
  while [ "$(acks)" -lt $target ]; do
    if [ $SECONDS -ge $deadline ]; then
      echo "the writer stalled at $(acks) acknowledged creates" >&2
      return 1
    fi
    sleep 0.2
  done
}

writer_pid=""
cleanup() {
  [ -z "$writer_pid" ] || kill "$writer_pid" 2>/dev/null || true
  for id in 1 2 3; do
    [ -z "${pid[$id]:-}" ] || kill -KILL "${pid[$id]}" 2>/dev/null || true
  done
}
trap cleanup EXIT

status() {
  echo "== $1"
  "${warden[@]}" status --timeout 2000 "$hosts" || true
}

for id in 1 2 3; do start "$id" apache; done
wait_for_quorum
status "three Apache servers"

# The writer runs until its standard input closes; fd 3 holds that input open.
exec 3> >(exec "$python" "$writer_script" "$hosts" /migration-walk > "$root/writer.out" 2> "$root/writer.err")
writer_pid=$!
deadline=$((SECONDS + 30))
until grep -q '^started' "$root/writer.out" 2>/dev/null; do
  [ $SECONDS -lt $deadline ] || { echo "the kazoo writer did not start: $(cat "$root/writer.err")" >&2; exit 1; }
  sleep 0.2
done
wait_for_writes

migrate_to() { # kind: each member in turn, followers first, the leader last
  local target="$1" order=() leader=""
  for id in 1 2 3; do
    if [ "$(mode "$id")" = leader ]; then leader=$id; else order+=("$id"); fi
  done
  order+=("$leader")
  for id in "${order[@]}"; do
    stop "$id"
    start "$id" "$target"
    wait_for_quorum
    wait_for_writes
    status "server.$id now runs $target ($(acks) creates acknowledged)"
  done
}

migrate_to warden
if [ $one_way = 0 ]; then
  migrate_to apache
fi

exec 3>&-
deadline=$((SECONDS + 30))
until grep -q '^done' "$root/writer.out" 2>/dev/null; do
  [ $SECONDS -lt $deadline ] || { echo "the writer did not finish: $(cat "$root/writer.err")" >&2; exit 1; }
  sleep 0.2
done
writer_pid=""

# Every acknowledged create on every member, read from each member alone after a sync.
"$python" - "$root/writer.out" "$(client_port 1)" "$(client_port 2)" "$(client_port 3)" <<'EOF'
import sys
from kazoo.client import KazooClient
acked = {line.split()[1] for line in open(sys.argv[1]) if line.startswith("ack ")}
lost = sum(1 for line in open(sys.argv[1]) if line.strip() == "lost")
for port in sys.argv[2:]:
    client = KazooClient(hosts="127.0.0.1:" + port, timeout=10.0)
    client.start(timeout=20)
    client.sync("/migration-walk")
    children = set(client.get_children("/migration-walk"))
    client.stop()
    client.close()
    missing = acked - children
    if missing:
        raise SystemExit("127.0.0.1:%s lacks %d of %d acknowledged creates, e.g. %s"
                         % (port, len(missing), len(acked), sorted(missing)[:5]))
    print("127.0.0.1:%s holds all %d acknowledged creates (%d children; %d creates of unknown outcome)"
          % (port, len(acked), len(children), lost))
EOF
echo "the writer's session $(awk '/^done/ { print "0x" $2 }' "$root/writer.out") lasted the whole walk"

for id in 1 2 3; do stop "$id"; done
trap - EXIT
if [ $keep = 0 ]; then rm -rf "$root"; else echo "kept $root"; fi
