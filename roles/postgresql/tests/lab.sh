#!/usr/bin/env bash
# Throwaway containers for testing the etcd and postgresql roles together.
#
#   lab.sh up        create networks PREFIX-mgmt (10.79.10.0/24, NAT for apt) and PREFIX-db
#                    (10.79.50.0/24) and boot PREFIX-db1, PREFIX-db2, PREFIX-witness
#   lab.sh converge  run converge.yml (pass extra ansible-playbook arguments after it)
#   lab.sh down      remove the containers and the networks
#
# PREFIX is $PGTEST_PREFIX (default pgtest); the image is $PGTEST_IMAGE (default
# localhost/oson-base:bookworm, a Debian bookworm minbase with systemd and python3).
# Run from anywhere; ansible comes from the repository's .venv.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../../.." && pwd)
prefix=${PGTEST_PREFIX:-pgtest}
image=${PGTEST_IMAGE:-localhost/oson-base:bookworm}
# name:last-octet:hostname
members=("db1:41:osondb1" "db2:42:osondb2" "witness:43:osonwitness")

up() {
  podman network exists "$prefix-mgmt" || podman network create --subnet 10.79.10.0/24 "$prefix-mgmt" >/dev/null
  podman network exists "$prefix-db" || podman network create --subnet 10.79.50.0/24 "$prefix-db" >/dev/null
  for member in "${members[@]}"; do
    IFS=: read -r name octet hostname <<<"$member"
    podman container exists "$prefix-$name" && continue
    podman run -d --privileged --systemd=always \
      --network "$prefix-mgmt:ip=10.79.10.$octet" --network "$prefix-db:ip=10.79.50.$octet" \
      --hostname "$hostname" --name "$prefix-$name" "$image" /sbin/init >/dev/null
  done
  for member in "${members[@]}"; do
    IFS=: read -r name _ _ <<<"$member"
    for _ in $(seq 1 60); do
      state=$(podman exec "$prefix-$name" systemctl is-system-running 2>/dev/null || true)
      [[ $state == running || $state == degraded ]] && break
      sleep 1
    done
    echo "$prefix-$name: ${state:-not booted}"
  done
}

down() {
  for member in "${members[@]}"; do
    IFS=: read -r name _ _ <<<"$member"
    podman rm -f -t 2 "$prefix-$name" >/dev/null 2>&1 || true
  done
  podman network rm "$prefix-db" "$prefix-mgmt" >/dev/null 2>&1 || true
}

converge() {
  cd "$repo"
  PGTEST_PREFIX=$prefix .venv/bin/ansible-playbook -i "$here/inventory.yml" "$here/converge.yml" "$@"
}

case ${1:-} in
  up) up ;;
  down) down ;;
  converge) shift; converge "$@" ;;
  *) echo "usage: $0 up|converge [ansible-playbook args]|down" >&2; exit 2 ;;
esac
