#!/usr/bin/env bash
# Prepares this machine (Debian 12) to run the lab and the tests: Debian packages, the podman
# configuration that works on hosts without systemd as PID 1, and the Python environment in .venv.
# Safe to run again: each step is skipped when already done.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  podman runc netavark aardvark-dns debootstrap iproute2 nftables curl ca-certificates openssh-client
  # netavark sets up the lab networks with iptables, which its package does not pull in.
  iptables
  # The real binaries the unit tests validate rendered configs with.
  haproxy apache2 keepalived
  # PostgreSQL 15 binaries for the service's tests (started by the tests themselves).
  postgresql-15 postgresql-client-15
  # HTTP load generator of the payments benchmark (services/operator/bench/payments.py).
  wrk
  # The audit: the TLS scan, WeasyPrint's text layout for the PDF report, PDF-to-text/PNG for its tests.
  testssl.sh poppler-utils libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core
  # The operator console's browser tests (Playwright drives Debian's chromium, never a downloaded one).
  chromium
  # The rack roles' validators (libvirt domain XML, multipath, ifupdown2) and `vagrant validate`.
  vagrant vagrant-libvirt libvirt-clients libxml2-utils multipath-tools ifupdown2
  # sshd -t validates the hardening role's SSH configuration in the unit tests.
  openssh-server
  # Building the appliance's pgBackRest package from Debian's source (its -dev packages come with it).
  dpkg-dev
)

if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "==> installing Debian packages: ${missing[*]}"
  # Keep package post-install scripts from starting daemons on this machine.
  policy=/usr/sbin/policy-rc.d
  had_policy=0; [ -e "$policy" ] && had_policy=1
  if [ "$had_policy" = 0 ]; then printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null; $SUDO chmod 755 "$policy"; fi
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
  if [ "$had_policy" = 0 ]; then $SUDO rm -f "$policy"; fi
fi

# Podman 4.3 with crun fails here (cgroups hybrid mode, setrlimit); runc without default ulimits works.
conf=/etc/containers/containers.conf
want=$'[containers]\ndefault_ulimits = []\n[engine]\nruntime = "runc"'
if [ ! -f "$conf" ] || ! grep -q 'runtime = "runc"' "$conf"; then
  echo "==> writing $conf"
  mkdir -p /etc/containers
  printf '%s\n' "$want" > "$conf"
fi

# The Python environment for the control node (Ansible, osonctl, tests).
python=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  echo "==> creating .venv"
  "$python" -m venv .venv
fi
stamp_inputs=(pyproject.toml)
[ -f services/operator/pyproject.toml ] && stamp_inputs+=(services/operator/pyproject.toml)
stamp=.venv/.installed-$(cat "${stamp_inputs[@]}" | sha256sum | cut -c1-16)
if [ ! -f "$stamp" ]; then
  echo "==> installing Python packages into .venv"
  .venv/bin/pip install -q --upgrade pip
  .venv/bin/pip install -q -e '.[dev]'
  if [ -f services/operator/pyproject.toml ]; then
    .venv/bin/pip install -q -e 'services/operator[test]'
  fi
  rm -f .venv/.installed-*
  touch "$stamp"
fi
# The appliance's pgBackRest (Debian's 2.45 with the pgbackrest role's patch), built once into
# .build/debs and installed here too: the backup benchmark and the local drills use this machine's.
read -r deb deb_version < <(.venv/bin/python roles/pgbackrest/files/build_package.py --dest .build/debs | tail -n 1 |
  .venv/bin/python -c 'import json, sys; report = json.load(sys.stdin); print(report["deb"], report["version"])')
if [ "$(dpkg-query -W -f='${db:Status-Abbrev}${Version}' pgbackrest 2>/dev/null || true)" != "ii $deb_version" ]; then
  echo "==> installing pgbackrest $deb_version"
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "$deb"
fi
echo "==> host ready"
