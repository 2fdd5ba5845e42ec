#!/usr/bin/env python3
"""Check a compose file without a Docker engine.

    python3 scripts/lint/check_compose.py [docker-compose.yml] [--schema FILE] [--cache-dir DIR]

1. YAML: parsed with PyYAML, refusing duplicate keys (which YAML allows and compose would
   silently resolve to the last one).
2. Schema: validated with `jsonschema` against the compose-spec JSON schema. The schema is
   taken from a PyPI package's data, because PyPI is the registry these machines reach:
   docker-compose 1.29.2 ships `compose/config/compose_spec.json` (the compose-spec schema of
   May 2021, JSON Schema draft 2019-09); no newer PyPI package ships the plain schema. The
   wheel is downloaded once with `pip download` into .local/lint-cache/ (gitignored), checked
   against its SHA-256 and the schema extracted from it. Being that old, the schema does not
   know the top-level `name`, `depends_on.<svc>.required/restart` or
   `healthcheck.start_interval`: compose files checked with it must not use them.
3. Our own rules, which no schema can express: see check_rules().

Prints one line and exits 0 when the file passes; prints each problem and exits 1 when not;
exits 2 when a tool is missing or the schema cannot be had.
"""
import argparse
import hashlib
import os
import re
import subprocess
import sys
import zipfile

SCHEMA_PACKAGE = "docker-compose"
SCHEMA_VERSION = "1.29.2"
SCHEMA_WHEEL = "docker_compose-1.29.2-py2.py3-none-any.whl"
SCHEMA_WHEEL_SHA256 = "8d5589373b35c8d3b1c8c1182c6e4a4ff14bffa3dd0b605fcd08f73c94cef809"
SCHEMA_MEMBER = "compose/config/compose_spec.json"
SCHEMA_SHA256 = "0dc04bd346dcfee1b1419628fff79937bbf076925f298f272a2b490e2b112bac"

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEFAULT_CACHE = os.path.join(REPO, ".local", "lint-cache")

# The service that must be observable, and what the broker must offer the host.
SERVICE = "cascade"
SERVICE_PORT = 9464
BROKER = "kafka"
HOST_NAMES = ("localhost", "127.0.0.1", "[::1]")


def die(message, code=2):
    print(f"check_compose: {message}", file=sys.stderr)
    sys.exit(code)


def import_tools():
    import importlib.util
    for module in ("yaml", "jsonschema"):
        if importlib.util.find_spec(module) is None:
            die(f"{module} is missing: python3 -m pip install jsonschema PyYAML "
                "(add --break-system-packages where pip refuses)")


def sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 16), b""):
            digest.update(block)
    return digest.hexdigest()


def schema_path(cache_dir):
    """The cached schema, fetched from the docker-compose wheel when missing."""
    target = os.path.join(cache_dir, f"compose_spec-{SCHEMA_PACKAGE}-{SCHEMA_VERSION}.json")
    if os.path.exists(target) and sha256(target) == SCHEMA_SHA256:
        return target
    os.makedirs(cache_dir, exist_ok=True)
    wheel = os.path.join(cache_dir, SCHEMA_WHEEL)
    if not os.path.exists(wheel) or sha256(wheel) != SCHEMA_WHEEL_SHA256:
        command = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
                   "--only-binary=:all:", "--dest", cache_dir,
                   f"{SCHEMA_PACKAGE}=={SCHEMA_VERSION}"]
        result = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if result.returncode != 0 or not os.path.exists(wheel):
            die(f"could not download the compose-spec schema ({' '.join(command[2:])}):\n{result.stdout}")
        if sha256(wheel) != SCHEMA_WHEEL_SHA256:
            die(f"{wheel}: SHA-256 {sha256(wheel)} is not the expected {SCHEMA_WHEEL_SHA256}")
    with zipfile.ZipFile(wheel) as archive:
        data = archive.read(SCHEMA_MEMBER)
    if hashlib.sha256(data).hexdigest() != SCHEMA_SHA256:
        die(f"{SCHEMA_MEMBER} in {SCHEMA_WHEEL} is not the expected file")
    with open(target + ".tmp", "wb") as f:
        f.write(data)
    os.replace(target + ".tmp", target)
    return target


def load_yaml(path):
    import yaml
    from manifests import StrictLoader  # scripts/lint/ is on the path: this script's directory

    try:
        with open(path) as f:
            return yaml.load(f, Loader=StrictLoader)
    except OSError as error:
        die(f"{path}: {error.strerror}")
    except yaml.YAMLError as error:
        print(f"check_compose: {path}: not valid YAML: {error}", file=sys.stderr)
        sys.exit(1)


def schema_errors(document, schema_file):
    import json
    import jsonschema

    with open(schema_file) as f:
        schema = json.load(f)
    # The file says draft 2019-09 ("http://…/draft/2019-09/schema#", a spelling jsonschema does
    # not look up); older jsonschema releases without that draft get draft 7, which the schema
    # also satisfies.
    validator_class = getattr(jsonschema, "Draft201909Validator", jsonschema.Draft7Validator)
    validator = validator_class(schema)
    problems = []
    for error in sorted(validator.iter_errors(document), key=lambda e: list(map(str, e.absolute_path))):
        best = jsonschema.exceptions.best_match([error])
        where = "/".join(str(p) for p in best.absolute_path) or "(top level)"
        problems.append(f"schema: {where}: {best.message}")
    return problems


# ---- our own rules ------------------------------------------------------------------------

def environment(service):
    env = service.get("environment") or {}
    if isinstance(env, list):
        pairs = {}
        for item in env:
            key, _, value = str(item).partition("=")
            pairs[key] = value
        return pairs
    return {key: ("" if value is None else str(value)) for key, value in env.items()}


def ports(service):
    """(published, target) pairs; published is None when compose picks one."""
    result = []
    for entry in service.get("ports") or []:
        if isinstance(entry, dict):
            published = entry.get("published")
            result.append((int(published) if published is not None else None, int(entry["target"])))
            continue
        # [HOST_IP:][HOST_PORT:]CONTAINER_PORT[/PROTOCOL], ports possibly ranges (a-b).
        text = str(entry).split("/")[0]
        rest, _, container = text.rpartition(":")
        host = rest.rpartition(":")[2] if rest else ""
        try:
            result.append((int(host.split("-")[0]) if host else None, int(container.split("-")[0])))
        except ValueError:
            result.append((None, -1))
    return result


def seconds(duration):
    """A compose duration (`30s`, `1m30s`, `500ms`, a bare number of seconds) in seconds."""
    if isinstance(duration, (int, float)):
        return float(duration)
    units = {"h": 3600, "m": 60, "s": 1, "ms": 0.001, "us": 1e-6, "ns": 1e-9}
    parts = re.findall(r"(\d+(?:\.\d+)?)(ms|us|ns|h|m|s)", str(duration))
    if not parts or "".join(n + u for n, u in parts) != str(duration):
        return None
    return sum(float(n) * units[u] for n, u in parts)


def check_rules(document, compose_dir):
    problems = []
    services = document.get("services") or {}

    def has_healthcheck(service):
        check = service.get("healthcheck") or {}
        return bool(check.get("test")) and not check.get("disable") and check.get("test") != ["NONE"]

    for name, service in services.items():
        service = service or {}
        # depends_on: a known service, with what each condition needs of it.
        depends = service.get("depends_on") or {}
        if isinstance(depends, list):
            depends = {dep: {"condition": "service_started"} for dep in depends}
        for dep, spec in depends.items():
            target = services.get(dep)
            if target is None:
                problems.append(f"{name}: depends_on names {dep!r}, which is not a service")
                continue
            condition = (spec or {}).get("condition", "service_started")
            if condition == "service_healthy" and not has_healthcheck(target):
                problems.append(f"{name}: waits for {dep} to be service_healthy, but {dep} has no healthcheck")
            if condition == "service_completed_successfully" and target.get("restart", "no") != "no":
                problems.append(f"{name}: waits for {dep} to complete, but {dep} has restart "
                                f"{target.get('restart')!r}; a one-shot job needs restart \"no\"")
            if target.get("profiles") and not service.get("profiles"):
                problems.append(f"{name}: depends on {dep}, which runs only in profile(s) "
                                f"{target['profiles']}, while {name} always runs")
        # Bind mounts and the build context must exist in the repository.
        for volume in service.get("volumes") or []:
            source = volume.get("source") if isinstance(volume, dict) else str(volume).split(":")[0]
            if source and (source.startswith(".") or source.startswith("/")):
                path = os.path.normpath(os.path.join(compose_dir, source))
                if not os.path.exists(path):
                    problems.append(f"{name}: bind-mounted {source} does not exist")
        build = service.get("build")
        if build:
            context = build if isinstance(build, str) else build.get("context", ".")
            context_path = os.path.normpath(os.path.join(compose_dir, context))
            dockerfile = "Dockerfile" if isinstance(build, str) else build.get("dockerfile", "Dockerfile")
            if not os.path.isdir(context_path):
                problems.append(f"{name}: build context {context} is not a directory")
            elif not os.path.isfile(os.path.join(context_path, dockerfile)):
                problems.append(f"{name}: build dockerfile {dockerfile} does not exist in {context}")

    # The service: restarted, health-checked, its metrics port published, drained before SIGKILL.
    service = services.get(SERVICE)
    if service is None:
        problems.append(f"no {SERVICE!r} service")
    else:
        if service.get("restart", "no") == "no":
            problems.append(f"{SERVICE}: needs a restart policy (it exits 1 when a dependency stays away)")
        if not has_healthcheck(service):
            problems.append(f"{SERVICE}: needs a healthcheck (/readyz)")
        if SERVICE_PORT not in [target for _, target in ports(service)]:
            problems.append(f"{SERVICE}: container port {SERVICE_PORT} (/metrics, /healthz, /readyz) is not published")
        env = environment(service)
        grace = seconds(service.get("stop_grace_period", "10s"))
        drain = float(env.get("CASCADE_SHUTDOWN_TIMEOUT") or 20)
        if grace is None:
            problems.append(f"{SERVICE}: stop_grace_period {service.get('stop_grace_period')!r} is not a duration")
        elif grace <= drain:
            problems.append(f"{SERVICE}: stop_grace_period ({grace:g} s) must exceed the drain "
                            f"(CASCADE_SHUTDOWN_TIMEOUT, {drain:g} s), or Docker kills it mid-drain")
        brokers = env.get("CASCADE_BROKERS", "")
        if not brokers:
            problems.append(f"{SERVICE}: CASCADE_BROKERS is not set")

    # The broker: one listener the host can reach (advertised on localhost, port published), and
    # one the containers use (the one CASCADE_BROKERS names).
    kafka = services.get(BROKER)
    if kafka is None:
        problems.append(f"no {BROKER!r} service")
    else:
        env = environment(kafka)
        advertised = {}
        for listener in filter(None, env.get("KAFKA_ADVERTISED_LISTENERS", "").split(",")):
            match = re.match(r"^([A-Za-z0-9_]+)://(\[[^\]]*\]|[^:]*):(\d+)$", listener.strip())
            if not match:
                problems.append(f"{BROKER}: advertised listener {listener!r} is not NAME://HOST:PORT")
                continue
            advertised[match.group(1)] = (match.group(2), int(match.group(3)))
        protocol_map = dict(item.split(":", 1) for item in
                            filter(None, env.get("KAFKA_LISTENER_SECURITY_PROTOCOL_MAP", "").split(",")))
        for listener_name in advertised:
            if protocol_map and listener_name not in protocol_map:
                problems.append(f"{BROKER}: listener {listener_name} has no entry in KAFKA_LISTENER_SECURITY_PROTOCOL_MAP")
        published = {target: host_port for host_port, target in ports(kafka)}
        from_host = [(n, h, p) for n, (h, p) in advertised.items() if h in HOST_NAMES]
        if not from_host:
            problems.append(f"{BROKER}: no advertised listener on localhost: clients on the host "
                            "would be sent to an address only containers can resolve")
        for listener_name, host, port in from_host:
            if published.get(port) != port:
                problems.append(f"{BROKER}: listener {listener_name} advertises {host}:{port}, but "
                                f"container port {port} is not published as host port {port}")
        inter = env.get("KAFKA_INTER_BROKER_LISTENER_NAME")
        if inter and inter not in advertised:
            problems.append(f"{BROKER}: KAFKA_INTER_BROKER_LISTENER_NAME {inter} is not advertised")
        if service is not None:
            wanted = set(filter(None, environment(service).get("CASCADE_BROKERS", "").split(",")))
            offered = {f"{h}:{p}" for h, p in advertised.values()}
            for broker in wanted:
                if broker not in offered:
                    problems.append(f"{SERVICE}: CASCADE_BROKERS names {broker}, which {BROKER} does not "
                                    f"advertise ({', '.join(sorted(offered))})")
    return problems


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("compose_file", nargs="?", default="docker-compose.yml")
    parser.add_argument("--schema", help="a compose-spec JSON schema to use instead of the cached one")
    parser.add_argument("--cache-dir", default=DEFAULT_CACHE, help=f"where the schema is kept (default {DEFAULT_CACHE})")
    args = parser.parse_args()

    import_tools()
    schema_file = args.schema or schema_path(args.cache_dir)
    document = load_yaml(args.compose_file)
    if not isinstance(document, dict):
        die(f"{args.compose_file}: not a mapping", code=1)

    problems = schema_errors(document, schema_file)
    compose_dir = os.path.dirname(os.path.abspath(args.compose_file))
    problems += check_rules(document, compose_dir)
    if problems:
        for problem in problems:
            print(f"check_compose: {args.compose_file}: {problem}", file=sys.stderr)
        print(f"check_compose: {args.compose_file}: {len(problems)} problem(s)", file=sys.stderr)
        return 1
    source = "--schema " + args.schema if args.schema else f"{SCHEMA_PACKAGE} {SCHEMA_VERSION}"
    print(f"check_compose: {args.compose_file}: OK ({len(document.get('services') or {})} services; "
          f"compose-spec schema from {source}, plus depends_on, healthcheck, port and listener rules)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
