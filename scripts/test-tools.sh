#!/usr/bin/env bash
# The clients the tests check Cascade's contracts with, none of them written here:
# curl, Prometheus' own parser (prometheus_client), confluent-kafka, `cryptography` and PyJWT (keys,
# signatures and bearer tokens for the crypto and token tests), from PyPI.
# Installs the Python ones when they are missing; says what to install otherwise.
set -euo pipefail

command -v curl >/dev/null || { echo "test-tools: curl is missing (apt-get install curl)" >&2; exit 1; }
command -v python3 >/dev/null || { echo "test-tools: python3 is missing (apt-get install python3 python3-pip)" >&2; exit 1; }

PACKAGES=(prometheus_client confluent-kafka cryptography PyJWT)
if ! python3 -c 'import prometheus_client, confluent_kafka, cryptography, jwt' 2>/dev/null; then
    echo "test-tools: installing ${PACKAGES[*]} from PyPI" >&2
    # Debian's Python refuses installs outside a virtual environment unless told (PEP 668).
    python3 -m pip install --quiet "${PACKAGES[@]}" 2>/dev/null \
        || python3 -m pip install --quiet --break-system-packages "${PACKAGES[@]}"
fi
python3 -c 'import prometheus_client, confluent_kafka, cryptography, jwt' \
    || { echo "test-tools: one of ${PACKAGES[*]} is still not importable" >&2; exit 1; }
