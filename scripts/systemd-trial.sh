#!/bin/sh
# Runs the README's systemd unit under a live systemd, as root, and leaves nothing behind on the machine.
#
#   scripts/systemd-trial.sh [path/to/single-file/warden]    (default: publishes src/Warden.Cli for linux-x64)
#
# systemd is started as the first process of private pid and mount namespaces. Inside them the README's paths
# (/etc/systemd/system/warden.service, /usr/local/bin/warden, /etc/warden/zoo.cfg, /var/lib/warden, a `warden`
# user) are tmpfs or bind mounts of this run's own directory, and /tmp, /var/tmp and /run are fresh tmpfs, so
# systemd's boot-time clean-ups cannot reach the machine's files. Units that would touch the kernel or the clock
# (udev, sysctl, modules, time sync) and every installed service are masked. The network is shared, so the
# client below reaches the service on 127.0.0.1.
#
# Steps: `systemctl enable --now warden`; a client creates a znode; `systemctl stop` must log the clean stop
# and exit 0; `systemctl start` must find the znode; `kill -9` of the main process must be restarted by
# Restart=on-failure with the znode still there. Prints PASS or FAIL and exits 0 or 1.
set -eu

if [ "$(id -u)" != 0 ] || [ ! -x /lib/systemd/systemd ]; then
  echo "systemd-trial: needs root and /lib/systemd/systemd" >&2
  exit 2
fi
repo=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d "${TMPDIR:-/var/tmp}/warden-systemd-trial.XXXXXX")
port=${WARDEN_TRIAL_PORT:-2191}
admin_port=${WARDEN_TRIAL_ADMIN_PORT:-8191}
init_pid=""
# Mount points the machine lacks are made for the run and removed after it.
made=""
for d in /etc/warden /var/lib/warden; do
  if [ ! -e "$d" ]; then mkdir -p "$d"; made="$made $d"; fi
done

cleanup() {
  if [ -n "$init_pid" ]; then kill -9 "$init_pid" 2>/dev/null || true; sleep 0.5; fi
  for d in $made; do rmdir "$d" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

binary=${1:-}
if [ -z "$binary" ]; then
  dotnet publish "$repo/src/Warden.Cli" -c Release -r linux-x64 -o "$work/publish" >/dev/null
  binary="$work/publish/warden"
fi

# The files the README tells a person to write, from the README itself.
mkdir -p "$work/units" "$work/bin" "$work/etc-warden" "$work/var-lib-warden"
awk '/^```ini/{f=1;next} /^```/{if(f){exit}} f' "$repo/README.md" > "$work/units/warden.service"
grep -q '^ExecStart=/usr/local/bin/warden server /etc/warden/zoo.cfg' "$work/units/warden.service"
cp "$binary" "$work/bin/warden"
printf 'tickTime=2000\ndataDir=/var/lib/warden\nclientPort=%s\nadmin.serverPort=%s\n' "$port" "$admin_port" > "$work/etc-warden/zoo.cfg"
cp /etc/passwd "$work/passwd"
cp /etc/group "$work/group"
echo "warden:x:19999:" >> "$work/group"
echo "warden:x:19999:19999:Warden:/var/lib/warden:/usr/sbin/nologin" >> "$work/passwd"
chown 19999:19999 "$work/var-lib-warden"

cat > "$work/inner.sh" <<EOF
#!/bin/sh
set -e
mount -t proc proc /proc
mount -t tmpfs tmpfs /run
mount -t tmpfs tmpfs /etc/systemd/system
cp "$work/units/warden.service" /etc/systemd/system/
mount --bind "$work/etc-warden" /etc/warden
mount --bind "$work/var-lib-warden" /var/lib/warden
mount -t tmpfs tmpfs /usr/local/bin
cp "$work/bin/warden" /usr/local/bin/warden
mount --bind "$work/passwd" /etc/passwd
mount --bind "$work/group" /etc/group
mkdir -p /run/systemd/system
for u in \$(ls /lib/systemd/system/sysinit.target.wants/) systemd-udevd.service systemd-udevd-control.socket \
         systemd-udevd-kernel.socket systemd-udev-trigger.service systemd-tmpfiles-setup.service \
         systemd-tmpfiles-clean.timer systemd-timesyncd.service systemd-remount-fs.service; do
  case "\$u" in systemd-journald.service|*.target) ;; *) ln -sf /dev/null "/run/systemd/system/\$u" ;; esac
done
printf '[Unit]\nDescription=Warden service trial\nRequires=basic.target\nAfter=basic.target\n' > /run/systemd/system/trial.target
# Last, as this run's directory may be under them: the bind mounts above keep their files.
mount -t tmpfs tmpfs /tmp
mount -t tmpfs tmpfs /var/tmp
exec /lib/systemd/systemd --system --unit=trial.target --log-target=console --show-status=no
EOF
chmod +x "$work/inner.sh"
setsid unshare --pid --fork --mount --propagation private "$work/inner.sh" > "$work/boot.log" 2>&1 &

# The namespace's first process is systemd once it has exec'd; wait (bounded) for it to say it is running.
i=0
while [ $i -lt 100 ]; do
  init_pid=$(pgrep -f "systemd --system --unit=trial.target" | head -1 || true)
  if [ -n "$init_pid" ] && [ "$(nsenter -t "$init_pid" -m -p systemctl is-system-running 2>/dev/null || true)" = running ]; then break; fi
  i=$((i + 1)); sleep 0.2
done
[ -n "$init_pid" ] || { echo "systemd-trial: systemd did not start"; cat "$work/boot.log"; exit 1; }
inside() { nsenter -t "$init_pid" -m -p "$@"; }
cli() { "$work/bin/warden" cli -server "127.0.0.1:$port" "$@" 2>&1; }
fail() { echo "systemd-trial: FAIL: $*"; inside journalctl -u warden --no-pager | tail -20; exit 1; }
serving() {
  j=0
  while [ $j -lt 100 ]; do
    if "$work/bin/warden" status "127.0.0.1:$port" >/dev/null 2>&1; then return 0; fi
    j=$((j + 1)); sleep 0.2
  done
  return 1
}

inside systemctl daemon-reload
inside systemctl enable --now warden
serving || fail "not serving after enable --now"
[ "$(inside ps -o user= -p "$(inside systemctl show warden -p MainPID --value)")" = warden ] || fail "not running as user warden"
cli create /trial kept | grep -q "Created /trial" || fail "create"

inside systemctl stop warden
[ "$(inside systemctl show warden -p Result --value)" = success ] || fail "stop did not succeed"
[ "$(inside systemctl show warden -p ExecMainStatus --value)" = 0 ] || fail "exit status after stop"
inside journalctl -u warden --no-pager | grep -q "Warden stopped on SIGTERM" || fail "no clean-stop line in the journal"

inside systemctl start warden
serving || fail "not serving after start"
cli get /trial | grep -qx kept || fail "znode lost across stop/start"

main=$(inside systemctl show warden -p MainPID --value)
inside kill -9 "$main"
k=0
while [ $k -lt 100 ]; do
  now=$(inside systemctl show warden -p MainPID --value)
  if [ "$now" != 0 ] && [ "$now" != "$main" ]; then break; fi
  k=$((k + 1)); sleep 0.2
done
[ "$(inside systemctl show warden -p NRestarts --value)" -ge 1 ] || fail "not restarted after kill -9"
serving || fail "not serving after the restart"
cli get /trial | grep -qx kept || fail "znode lost across kill -9"

inside systemctl disable --now warden >/dev/null 2>&1
inside journalctl -u warden --no-pager | tail -3
echo "systemd-trial: PASS (enable --now, stop logs a clean stop and exits 0, start keeps data, kill -9 restarted by Restart=on-failure)"
