#!/bin/sh
# One-shot job of the temporal-setup service (temporalio/admin-tools image): registers CertFlow's custom
# search attributes on the namespace, so workflows that upsert them don't fail.
# Arguments: one NAME=Type per attribute (Type as the `temporal` CLI spells it: Keyword, Text, Int, ...).
# docker-compose.yml passes them as `command`, and test/unit/compose.test.ts checks that list against
# SEARCH_ATTRIBUTE_KEYS of workflows/definitions.ts.
set -eu

address="${TEMPORAL_ADDRESS:-temporal:7233}"
namespace="${TEMPORAL_NAMESPACE:-default}"
timeout="${SETUP_TIMEOUT_SECONDS:-300}"

if [ "$#" -eq 0 ]; then
  echo "usage: $0 NAME=Type [NAME=Type ...]" >&2
  exit 2
fi

# auto-setup first creates the schema, then starts the server, then creates the default namespace:
# wait for the namespace itself, not only for the port to open.
echo "waiting for namespace '$namespace' on $address"
waited=0
until temporal operator namespace describe --address "$address" --namespace "$namespace" >/dev/null 2>&1; do
  if [ "$waited" -ge "$timeout" ]; then
    echo "namespace '$namespace' not reachable on $address after ${timeout}s" >&2
    exit 1
  fi
  sleep 3
  waited=$((waited + 3))
done

for pair in "$@"; do
  name="${pair%%=*}"
  type="${pair#*=}"
  if [ "$name" = "$pair" ] || [ -z "$name" ] || [ -z "$type" ]; then
    echo "bad argument '$pair': expected NAME=Type" >&2
    exit 2
  fi
  attempt=1
  while :; do
    if out=$(temporal operator search-attribute create --address "$address" --namespace "$namespace" \
      --name "$name" --type "$type" 2>&1); then
      echo "registered $name ($type)"
      break
    fi
    # The job runs on every `docker compose up`: an attribute from a previous run is fine.
    case "$out" in
      *"already exists"* | *"already registered"*)
        echo "$name already registered"
        break
        ;;
    esac
    # Right after the namespace appears, the server can still refuse briefly: retry a few times.
    if [ "$attempt" -ge 5 ]; then
      echo "could not register $name: $out" >&2
      exit 1
    fi
    attempt=$((attempt + 1))
    sleep 3
  done
done
