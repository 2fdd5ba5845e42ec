"""Reading Kubernetes manifests for the other scripts in scripts/lint/ (imported, not run).

YAML is parsed with PyYAML's safe loader, made to refuse a key given twice in one mapping:
YAML allows it and every Kubernetes tool silently keeps the last one, so a second `env:` or
`resources:` would drop the first without a word. Empty documents (a trailing `---`) are
skipped. Each document comes back with a `where` string (file and document number) for messages.
"""
import sys

import yaml


class StrictLoader(yaml.SafeLoader):
    """PyYAML's safe loader, refusing a key given twice in one mapping (also for
    check_compose.py). Merge keys (`<<: *anchor`, which compose files use) are merged as usual."""


def _mapping_without_duplicates(loader, node, deep=False):
    seen = {}
    for key_node, _ in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":
            continue
        key = loader.construct_object(key_node, deep=True)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                "while constructing a mapping", node.start_mark,
                f"found duplicate key {key!r} (first at line {seen[key] + 1})", key_node.start_mark)
        seen[key] = key_node.start_mark.line
    loader.flatten_mapping(node)
    return dict(loader.construct_pairs(node, deep=deep))


StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping_without_duplicates)


class ManifestError(Exception):
    pass


def load_text(text, name):
    """[(where, document)] for every non-empty document of a YAML stream."""
    try:
        docs = list(yaml.load_all(text, Loader=StrictLoader))
    except yaml.YAMLError as e:
        raise ManifestError(f"{name}: not valid YAML: {e}") from None
    out = []
    for i, doc in enumerate(docs, 1):
        if doc is None:
            continue
        if not isinstance(doc, dict):
            raise ManifestError(f"{name} document {i}: not a mapping")
        out.append((f"{name} document {i}", doc))
    return out


def load_files(paths):
    """Documents of every file; '-' reads standard input (named 'rendered')."""
    out = []
    for path in paths:
        if path == "-":
            out.extend(load_text(sys.stdin.read(), "rendered"))
        else:
            with open(path, encoding="utf-8") as f:
                out.extend(load_text(f.read(), path))
    return out


def ident(doc):
    """kind/name, for messages."""
    return f"{doc.get('kind', '?')}/{(doc.get('metadata') or {}).get('name', '?')}"
