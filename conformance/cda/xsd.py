"""XML Schema validation of CDA documents: lxml (libxml2) for the verdict, xmlschema to explain.

Measured on the sample sets (benchmarks/cda.py): libxml2 validates a CDA document in well
under a millisecond and compiles a CDA schema in ~15 ms; xmlschema needs ~0.6 s to build
the schema and ~25 ms per document, but says which schema component (complex type) a
failure belongs to and gives a namespace-aware path. So the hot path is lxml, and
``explain=True`` re-runs failed documents through xmlschema.
"""

from __future__ import annotations

import threading
from functools import cache
from pathlib import Path

from lxml import etree

from conformance.errors import HarnessError
from conformance.issues import ValidationIssue
from conformance.resources import cda_dir

from .catalog import schema_spec
from .paths import element_at_libxml_path, element_path

_lock = threading.Lock()


class _LocalOnly(etree.Resolver):
    """Schema includes may only load files shipped under profiles/cda."""

    def __init__(self, root: Path) -> None:
        super().__init__()
        self.root = root.resolve()

    def resolve(self, system_url, public_id, context):
        url = str(system_url)
        path = Path(url.removeprefix("file://"))
        if "://" in url and not url.startswith("file://"):
            raise HarnessError(f"schema tried to load {url!r} from the network; refused")
        if path.is_absolute() and self.root not in path.resolve().parents:
            raise HarnessError(f"schema tried to load {url!r} outside {self.root}; refused")
        # default loading of the (local, shipped) file


@cache
def lxml_schema(name: str) -> etree.XMLSchema:
    spec = schema_spec(name)
    parser = etree.XMLParser(no_network=True, resolve_entities=False, load_dtd=False)
    parser.resolvers.add(_LocalOnly(cda_dir()))
    try:
        doc = etree.parse(str(spec.file), parser)
        return etree.XMLSchema(doc)
    except (OSError, etree.XMLSchemaParseError, etree.XMLSyntaxError) as exc:
        raise HarnessError(f"cannot load CDA schema {name!r} from {spec.file}: {exc}") from exc


def _source(name: str) -> str:
    return "profiles/cda/" + schema_spec(name).path


def validate_schema(tree: etree._ElementTree, name: str) -> list[ValidationIssue]:
    """Validate against the named schema with libxml2; one issue per schema error."""
    schema = lxml_schema(name)
    with _lock:  # an XMLSchema object keeps its error_log per call; do not interleave threads
        schema.validate(tree)
        entries = list(schema.error_log)
    issues: list[ValidationIssue] = []
    for e in entries:
        el = element_at_libxml_path(tree, getattr(e, "path", None))
        location = element_path(el) if el is not None else (getattr(e, "path", "") or "")
        line = el.sourceline if el is not None and el.sourceline else e.line
        issues.append(ValidationIssue(
            severity="error",
            code="structure",
            location=location,
            message=f"line {line}: {e.message.strip()} (XML Schema {name!r})",
            rule=f"xsd:{e.type_name}",
            source=_source(name),
        ))
    return issues


@cache
def xmlschema_schema(name: str):  # -> xmlschema.XMLSchema
    import xmlschema

    spec = schema_spec(name)
    try:
        # allow="local": no network (the schemas are our shipped files); defuse: no entities in schema docs.
        # validation="lax": the legacy epSOS schema has an unprefixed type reference in a chameleon
        # include (infrastructureRoot.xsd) that libxml2 tolerates and xmlschema reports; build anyway.
        return xmlschema.XMLSchema(str(spec.file), allow="local", defuse="always", validation="lax")
    except Exception as exc:  # xmlschema raises several exception families
        raise HarnessError(f"xmlschema cannot build CDA schema {name!r}: {exc}") from exc


def _component(validator) -> str:
    node = validator
    for _ in range(10):
        if node is None:
            break
        name = getattr(node, "local_name", None) or getattr(node, "name", None)
        if name:
            return str(name).rpartition("}")[2]
        node = getattr(node, "parent", None)
    return type(validator).__name__


def explain_schema(tree: etree._ElementTree, name: str) -> list[ValidationIssue]:
    """Validate with xmlschema: slower, but names the schema component (the complex type)
    each failure belongs to, which is what a vendor needs to fix the document."""
    schema = xmlschema_schema(name)
    issues: list[ValidationIssue] = []
    for err in schema.iter_errors(tree):
        elem = getattr(err, "elem", None)
        index = getattr(err, "index", None)  # content-model errors: the offending child's position
        if isinstance(elem, etree._Element) and isinstance(index, int):
            kids = [c for c in elem if isinstance(c.tag, str)]
            if 0 <= index < len(kids):
                elem = kids[index]
        location = element_path(elem) if isinstance(elem, etree._Element) else (err.path or "")
        line = getattr(elem, "sourceline", None) if isinstance(elem, etree._Element) else None
        component = _component(err.validator)
        reason = (err.reason or err.message or "").strip()
        issues.append(ValidationIssue(
            severity="error",
            code="structure",
            location=location,
            message=f"line {line}: {reason} (XML Schema {name!r}, component {component})",
            rule=f"xsd:{component}",
            source=_source(name),
        ))
    return issues
