#!/usr/bin/env bash
# Role test for roles/operator, against real containers:
#   - podman network optest-app (10.79.40.0/24) with optest-db (PostgreSQL 15, standing in for the
#     DB frontend VIP at .50) and two app hosts optest-app1/-app2 (.31/.32), all booted from
#     localhost/oson-base:bookworm with systemd;
#   - prepare.yml creates oson_owner, oson_app and database oson (what the postgresql role does);
#   - converge.yml runs the role: the first run must succeed, the second must report changed=0;
#   - checks from outside: /api/health 200 primary on both hosts, file modes, service user,
#     the migration applied exactly once;
#   - a new release (a copy of the sources with one file changed) must rebuild only the project
#     wheel, switch the venv, restart, stay healthy, and converge to changed=0 again.
# Everything is removed at the end (KEEP=1 keeps the containers for inspection).
# Run from anywhere, as root: services/operator/tests/role/run.sh
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../../../.." && pwd)
IMAGE=${IMAGE:-localhost/oson-base:bookworm}
NET=optest-app
SUBNET=10.79.40.0/24
DB=optest-db
APPS=(optest-app1 optest-app2)
declare -A ADDR=([optest-db]=10.79.40.50 [optest-app1]=10.79.40.31 [optest-app2]=10.79.40.32)
PLAYBOOK=("$REPO/.venv/bin/ansible-playbook" -i "$HERE/inventory.yml")
WORK=$(mktemp -d /tmp/operator-role-test.XXXXXX)

log() { printf '\n=== %s\n' "$*"; }
fail() { printf '\nFAIL: %s\n' "$*" >&2; exit 1; }

cleanup() {
  if [[ "${KEEP:-0}" == 1 ]]; then
    echo "KEEP=1: containers ${DB} ${APPS[*]} and network ${NET} left running; work dir ${WORK}"
    return
  fi
  podman rm -f -t 0 "$DB" "${APPS[@]}" >/dev/null 2>&1 || true
  podman network rm "$NET" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Recap lines look like "optest-app1 : ok=40 changed=0 unreachable=0 failed=0 ...".
recap_total() {  # $1 = log file, $2 = field (changed, failed, unreachable)
  awk -v f="$2" '/^PLAY RECAP/ {r=1; next} r && / : ok=/ {for (i=1;i<=NF;i++) if ($i ~ "^"f"=") {split($i,a,"="); s+=a[2]}} END {print s+0}' "$1"
}

converge() {  # $1 = log name, further args to ansible-playbook
  local name=$1; shift
  (cd "$REPO" && ANSIBLE_CALLBACKS_ENABLED=ansible.posix.profile_tasks \
     "${PLAYBOOK[@]}" "$HERE/converge.yml" -e "@$WORK/secrets.json" \
     -e "operator_build_dir=$WORK/wheelhouse" "$@") 2>&1 | tee "$WORK/$name.log"
  [[ $(recap_total "$WORK/$name.log" failed) == 0 && $(recap_total "$WORK/$name.log" unreachable) == 0 ]] \
    || fail "$name: the play failed (see above)"
}

health() {  # $1 = address; prints the JSON body, fails unless 200
  curl -fsS --max-time 10 "http://$1:8000/api/health"
}

log "containers and network"
podman rm -f -t 0 "$DB" "${APPS[@]}" >/dev/null 2>&1 || true
podman network rm "$NET" >/dev/null 2>&1 || true
podman network create --subnet "$SUBNET" "$NET" >/dev/null
for name in "$DB" "${APPS[@]}"; do
  podman run -d --privileged --systemd=always --network "$NET:ip=${ADDR[$name]}" --hostname "$name" \
    --name "$name" "$IMAGE" /sbin/init >/dev/null
done
for name in "$DB" "${APPS[@]}"; do
  for _ in $(seq 60); do
    state=$(podman exec "$name" systemctl is-system-running 2>/dev/null || true)
    [[ "$state" == running || "$state" == degraded ]] && break
    sleep 1
  done
  echo "$name: systemd $state"
done

log "secrets (random, with characters that break naive quoting)"
python3 - "$WORK/secrets.json" <<'EOF'
import json, secrets, sys
json.dump({
    "vault_postgresql_oson_owner_password": "o" + secrets.token_urlsafe(18) + "'\"$#\\ ${HOME}",
    "vault_postgresql_oson_app_password": "a" + secrets.token_urlsafe(18) + "'\"$#\\ ${HOME} =x",
}, open(sys.argv[1], "w"))
EOF
chmod 600 "$WORK/secrets.json"

log "prepare the database"
(cd "$REPO" && "${PLAYBOOK[@]}" "$HERE/prepare.yml" -e "@$WORK/secrets.json") 2>&1 | tee "$WORK/prepare.log"
[[ $(recap_total "$WORK/prepare.log" failed) == 0 ]] || fail "prepare failed"

log "converge 1"
start=$(date +%s)
converge converge1
echo "converge 1 took $(( $(date +%s) - start )) s"

log "converge 2 (must report changed=0)"
start=$(date +%s)
converge converge2
echo "converge 2 took $(( $(date +%s) - start )) s"
changed=$(recap_total "$WORK/converge2.log" changed)
[[ "$changed" == 0 ]] || fail "second converge reported changed=$changed"

log "checks from outside"
for app in "${APPS[@]}"; do
  body=$(health "${ADDR[$app]}") || fail "$app: /api/health is not 200"
  echo "$app: $body"
  python3 -c 'import json,sys; d=json.loads(sys.argv[1])["database"]; assert d["role"]=="primary" and d["schema_version"]=="0001" and d["server"]=="10.79.40.50:5432", d' "$body" \
    || fail "$app: unexpected health answer"
  curl -fsS --max-time 5 "http://${ADDR[$app]}:8000/api/live" >/dev/null || fail "$app: /api/live"
  mode=$(podman exec "$app" stat -c '%U:%G %a' /etc/oson/operator.env)
  [[ "$mode" == "root:oson 640" ]] || fail "$app: operator.env is $mode"
  pid=$(podman exec "$app" systemctl show -p MainPID --value oson-operator)
  user=$(podman exec "$app" stat -c %U "/proc/$pid")
  [[ "$user" == oson ]] || fail "$app: service runs as '$user'"
  podman exec "$app" systemctl is-enabled oson-operator >/dev/null || fail "$app: unit not enabled"
done
versions=$(podman exec "$DB" runuser -u postgres -- psql -d oson -Atc "SELECT string_agg(version_num, ',') FROM oson.alembic_version")
[[ "$versions" == 0001 ]] || fail "alembic_version is '$versions'"
# The migration task must report changed on one host in converge 1 and on none in converge 2.
migration_result() {  # $1 = log; prints the result lines of the migration task
  awk '/^TASK \[operator : Apply the database migrations/ {t=1; next} t && /^(TASK|RUNNING|PLAY)/ {exit} t && /^(ok|changed|skipping|fatal):/ {print}' "$1"
}
echo "migration task, converge 1: $(migration_result "$WORK/converge1.log" | tr '\n' ' ')"
echo "migration task, converge 2: $(migration_result "$WORK/converge2.log" | tr '\n' ' ')"
[[ $(migration_result "$WORK/converge1.log" | grep -c '^changed:') == 1 ]] || fail "converge 1 did not apply the migration exactly once"
[[ $(migration_result "$WORK/converge2.log" | grep -c '^ok:') == 1 ]] || fail "converge 2 did not run the migration check once"

log "new release: one changed source file rebuilds the project wheel only"
cp -a "$REPO/services/operator" "$WORK/src"
rm -rf "$WORK/src/.pytest_cache" "$WORK/src/.ruff_cache"
printf '\n# release marker %s\n' "$(date +%s)" >> "$WORK/src/oson_operator/domain/__init__.py"
cp "$WORK/wheelhouse/.manifest.json" "$WORK/manifest.before.json"
before=$(podman exec optest-app1 readlink /opt/oson/operator/venv)
pid_before=$(podman exec optest-app1 systemctl show -p MainPID --value oson-operator)
converge release1 -e "operator_source_dir=$WORK/src"
python3 - "$WORK/manifest.before.json" "$WORK/wheelhouse/.manifest.json" <<'EOF' || fail "more than the project wheel changed"
import json, sys
old, new = (json.load(open(p))["wheels"] for p in sys.argv[1:])
differ = sorted(n for n in old.keys() | new.keys() if old.get(n) != new.get(n))
print("wheels that changed:", differ)
assert differ == ["oson_operator-0.1.0-py3-none-any.whl"], differ
EOF
after=$(podman exec optest-app1 readlink /opt/oson/operator/venv)
pid_after=$(podman exec optest-app1 systemctl show -p MainPID --value oson-operator)
[[ "$before" != "$after" ]] || fail "the venv symlink did not move ($before)"
[[ "$pid_before" != "$pid_after" ]] || fail "the service was not restarted"
podman exec optest-app1 grep -q 'release marker' "$after/lib/python3.11/site-packages/oson_operator/domain/__init__.py" \
  || fail "the new code is not in the new venv"
venvs=$(podman exec optest-app1 ls /opt/oson/operator/venvs | wc -l)
[[ "$venvs" == 2 ]] || fail "expected the current and one previous venv, found $venvs"
health 10.79.40.31 >/dev/null || fail "unhealthy after the release"
converge release2 -e "operator_source_dir=$WORK/src"
changed=$(recap_total "$WORK/release2.log" changed)
[[ "$changed" == 0 ]] || fail "converge after the release reported changed=$changed"

log "PASS: converge 1 ok, converge 2 changed=0, health 200 primary on ${APPS[*]}, release upgrade ok"
