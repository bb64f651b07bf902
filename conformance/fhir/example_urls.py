"""Example URLs where the settings refuse them (`Settings.allow_examples` off, the reference validator's
`-no-example-urls` / a test case's `"examples": false`).

A uri, url or canonical value in an example domain (example.org, acme.com) that does not name a loaded
resource is an error "Example URLs are not allowed in this context", wherever it stands (an
`Attachment.url`, an `Identifier.system`...), as the reference validator checks every URL it cannot
resolve. Extension urls are left to the extension rules (they say it for unknown extensions), and the
value of a narrative link extension to its own rule. Only run when the setting is off: the walk is its
own, over the definitions, so the validation walk pays nothing for it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from conformance.fhir.narrative import TEXT_LINK
from conformance.fhir.primitives import PRIMITIVE_TYPES
from conformance.fhir.settings import is_example_url
from conformance.fhir.values import issue

if TYPE_CHECKING:  # pragma: no cover
    from conformance.fhir.contract import RunContext
    from conformance.fhir.structure import Elem
    from conformance.issues import ValidationIssue

_URL_TYPES = frozenset({"uri", "url", "canonical"})


def check_example_urls(run: RunContext, res: dict[str, Any], rt: str, loc: str, sink: list[ValidationIssue]) -> None:
    cs = run.v.structure(rt)
    if cs is not None:
        _walk(run, res, cs.root, loc, sink, None, 0)


def _walk(run: RunContext, obj: dict[str, Any], container: Elem, loc: str, sink: list[ValidationIssue],
          ext_url: str | None, depth: int) -> None:
    if depth > 64:
        return
    keymap = container.keymap()
    for key, val in obj.items():
        hit = keymap.get(key)
        if hit is None:
            continue
        child, tcode = hit
        items = val if isinstance(val, list) else [val]
        many = isinstance(val, list)
        for i, v in enumerate(items):
            where = f"{loc}.{key}[{i}]" if many else f"{loc}.{key}"
            if tcode in _URL_TYPES:
                if isinstance(v, str) and child.base_path != "Extension.url" and ext_url != TEXT_LINK \
                        and is_example_url(v) and run.v.defs.get(v) is None:
                    sink.append(issue("error", "invalid", where, f"Example URLs are not allowed in this context ({v}) "
                                      "(hint: the settings refuse example URLs)", "url.example"))
                continue
            if tcode in PRIMITIVE_TYPES or not isinstance(v, dict) or not tcode or tcode[0].islower():
                continue
            if "resourceType" in v or tcode in ("Resource", "DomainResource"):
                continue  # a resource inside: validated (and checked) on its own
            sub, _ = run._structure_for(child, tcode)
            if sub.children:
                url = v.get("url") if tcode == "Extension" else ext_url
                _walk(run, v, sub, where, sink, url if isinstance(url, str) else ext_url, depth + 1)
