# The two commands of the Quick start are `make lab` and `make test`; both set up what they need.
SHELL := /bin/bash
VENV := .venv/bin
# Ansible and its linters find their own tools (ansible-playbook, ansible-galaxy) on PATH.
export PATH := $(CURDIR)/.venv/bin:$(PATH)

.PHONY: setup lab lab-status lab-down test lint unit service-tests lab-tests bench bench-backup

setup:
	@bash scripts/host-setup.sh

## Bring up (or re-converge) the one-machine lab and print its URL.
lab: setup
	$(VENV)/osonctl lab up

lab-status: setup
	$(VENV)/osonctl lab status

lab-down: setup
	$(VENV)/osonctl lab down

# The roles' Python scripts that have no .py suffix (installed as commands on the VMs).
ROLE_SCRIPTS := $(shell grep -ls '^\#!/usr/bin/python3' roles/*/files/*)

lint: setup
	$(VENV)/ruff check appliance plugins tests bench services/operator roles $(ROLE_SCRIPTS)
	$(VENV)/ansible-lint --offline -q roles playbooks

# The service's tests import helpers from their conftest, so they run in their own session.
SERVICE_TESTS := $(VENV)/pytest --import-mode=prepend services/operator/tests

unit: setup
	$(SERVICE_TESTS)
	$(VENV)/pytest -m "not lab" tests

lab-tests: setup
	$(VENV)/pytest -m lab tests

## The whole suite: lint, unit and service tests, then the lab integration test (brings the lab up
## from scratch, checks it, re-converges, fails VMs over, and removes it). Prints the converge figures.
test: lint
	$(SERVICE_TESTS)
	$(VENV)/pytest tests

## Benchmarks (figures, not pass/fail): payments through the service against pgbench's raw-SQL limit,
## then time-range queries on a 1,000,000-row event log, then back-office search pages and a month's journals
## over 1,000,000 payments. Each starts its own PostgreSQL.
bench: setup
	$(VENV)/python services/operator/bench/payments.py
	$(VENV)/python services/operator/bench/event_query.py
	$(VENV)/python services/operator/bench/records.py

## Backup throughput against a raw copy and the RTO of a generated 5 GiB database (the benchmark's default
## size; a throwaway PostgreSQL and pgBackRest repository), then VIP and database failover from two lab
## drills (brings the lab up if needed).
bench-backup: setup
	$(VENV)/python bench/backup_restore.py --lab
