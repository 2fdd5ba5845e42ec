#!/usr/bin/env python3
"""Validate Kubernetes manifests: built-in kinds against Kubernetes' own OpenAPI schemas, the
custom resources we use against the JSON Schemas in deploy/schemas/.

    python3 scripts/lint/validate_manifests.py --kubernetes-version 1.37.0 \
        --schemas deploy/schemas FILE... ('-' reads a rendered stream from standard input)

Built-in kinds go through the `kubernetes-validate` package (PyPI), in its strict mode
(unknown fields are errors), exactly as its command line does. Unlike that command line,
which only warns about a kind it has no schema for (so a typo in `apiVersion` passes), an
apiVersion/kind found in neither place is an error here. A custom resource is matched to the
schema whose `$id` ends in <group>/<version>/<Kind>; deploy/schemas/common.json holds shared
definitions. Prints one line per file and exits 0 when everything passes, else prints each
problem and exits 1.
"""
import argparse
import json
import os
import sys

import jsonschema
import kubernetes_validate.utils as kv
from referencing import Registry, Resource

sys.dont_write_bytecode = True  # no __pycache__ in the work tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from manifests import ManifestError, ident, load_files  # noqa: E402

SCHEMA_ID_PREFIX = "urn:cascade:schemas:"


def load_schemas(directory):
    """({apiVersion/Kind: schema}, registry of every schema by $id)."""
    schemas, resources = {}, []
    for name in sorted(os.listdir(directory)):
        if not name.endswith(".json"):
            continue
        with open(os.path.join(directory, name), encoding="utf-8") as f:
            schema = json.load(f)
        jsonschema.Draft202012Validator.check_schema(schema)
        sid = schema.get("$id", "")
        if not sid.startswith(SCHEMA_ID_PREFIX):
            raise SystemExit(f"{name}: $id must start with {SCHEMA_ID_PREFIX}")
        resources.append((sid, Resource.from_contents(schema)))
        target = sid[len(SCHEMA_ID_PREFIX):]
        if target.count("/") == 2:  # group/version/Kind; 'common' is only referenced
            schemas[target] = schema
    return schemas, Registry().with_resources(resources)


def check(doc, version, schemas, registry):
    """A list of problems (empty when the document is valid)."""
    api, kind = doc.get("apiVersion"), doc.get("kind")
    if not isinstance(api, str) or not isinstance(kind, str):
        return ["apiVersion and kind must be strings"]
    key = f"{api}/{kind}" if "/" in api else f"core/{api}/{kind}"
    schema = schemas.get(key)
    if schema is not None:
        validator = jsonschema.Draft202012Validator(schema, registry=registry)
        errors = sorted(validator.iter_errors(doc), key=lambda e: list(map(str, e.absolute_path)))
        # One mistake can fail a field under two branches (e.g. an if/then and the base schema).
        return list(dict.fromkeys(f"{'.'.join(str(p) for p in e.absolute_path) or '(top)'}: {e.message}"
                                  for e in errors))
    try:
        kv.validate(doc, version, strict=True)
    except kv.ValidationError as e:
        return [f"{'.'.join(str(p) for p in e.path) or '(top)'}: {e.message}"]
    except kv.SchemaNotFoundError:
        return [f"no schema for {api} {kind}: neither a Kubernetes {version} kind nor one in deploy/schemas/"]
    return []


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kubernetes-version", required=True)
    parser.add_argument("--schemas", required=True, help="directory of JSON Schemas for custom resources")
    parser.add_argument("--verbose", action="store_true", help="name every valid object")
    parser.add_argument("files", nargs="+")
    args = parser.parse_args()

    try:
        kv.validate({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "probe"}},
                    args.kubernetes_version, strict=True)
    except kv.VersionNotSupportedError:
        raise SystemExit(f"kubernetes-validate has no schemas for Kubernetes {args.kubernetes_version} "
                         f"(it has {kv.all_versions()[0]} .. {kv.latest_version()})")
    schemas, registry = load_schemas(args.schemas)

    failed = False
    for path in args.files:
        try:
            docs = load_files([path])
        except (ManifestError, OSError) as e:
            print(f"FAIL {e}", file=sys.stderr)
            failed = True
            continue
        if not docs:
            print(f"FAIL {path}: no documents", file=sys.stderr)
            failed = True
            continue
        file_ok = True
        for where, doc in docs:
            problems = check(doc, args.kubernetes_version, schemas, registry)
            for p in problems:
                print(f"FAIL {where} ({ident(doc)}): {p}", file=sys.stderr)
            file_ok &= not problems
        failed |= not file_ok
        if file_ok and args.verbose:
            print(f"  {'rendered' if path == '-' else path}: {', '.join(ident(d) for _, d in docs)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
