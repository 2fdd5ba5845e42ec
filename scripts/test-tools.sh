#!/usr/bin/env bash
# The clients the tests check Cascade's contracts with, none of them written here:
# curl, Prometheus' own parser (prometheus_client) and confluent-kafka, from PyPI.
# Installs the Python ones when they are missing; says what to install otherwise.
set -euo pipefail

command -v curl >/dev/null || { echo "test-tools: curl is missing (apt-get install curl)" >&2; exit 1; }
command -v python3 >/dev/null || { echo "test-tools: python3 is missing (apt-get install python3 python3-pip)" >&2; exit 1; }

if ! python3 -c 'import prometheus_client, confluent_kafka' 2>/dev/null; then
    echo "test-tools: installing prometheus_client and confluent-kafka from PyPI" >&2
    # Debian's Python refuses installs outside a virtual environment unless told (PEP 668).
    python3 -m pip install --quiet prometheus_client confluent-kafka 2>/dev/null \
        || python3 -m pip install --quiet --break-system-packages prometheus_client confluent-kafka
fi
python3 -c 'import prometheus_client, confluent_kafka' \
    || { echo "test-tools: prometheus_client or confluent-kafka still not importable" >&2; exit 1; }
