"""Run compiled Schematron with saxonche (SaxonC-HE: XSLT 3.0 / XPath 3.1, no Java download).

One Saxon processor per process, created on first use; compiled stylesheets are
kept per process (SaxonC-HE cannot save them, see schematron.py). Saxon never
parses the untrusted bytes itself: it gets the document that lxml already parsed
safely (serialized without any DTD), so its own XML parser never sees a DOCTYPE.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from lxml import etree

from conformance.errors import HarnessError

from .schematron import CompiledSchematron

_lock = threading.RLock()
_processor = None
_executables: dict[tuple[str, str, str, bool], object] = {}


def processor():  # -> saxonche.PySaxonProcessor
    global _processor
    with _lock:
        if _processor is None:
            try:
                from saxonche import PySaxonProcessor
            except ImportError as exc:  # pragma: no cover - saxonche is a declared dependency
                raise HarnessError("Schematron validation needs saxonche (pip install saxonche)") from exc
            proc = PySaxonProcessor(license=False)
            # No fetching from the network or the file system from inside a stylesheet
            # (document(), doc(), unparsed-text()): the rules judge the document given, nothing else.
            proc.set_configuration_property("http://saxon.sf.net/feature/allowedProtocols", "")
            _processor = proc
        return _processor


def executable(compiled: CompiledSchematron):
    key = (compiled.name, compiled.sha256, compiled.phase, compiled.include_success)
    with _lock:
        exe = _executables.get(key)
        if exe is None:
            xslt = processor().new_xslt30_processor()
            try:
                exe = xslt.compile_stylesheet(stylesheet_text=compiled.xslt)
            except Exception as exc:  # PySaxonApiError: static errors in a rule's XPath
                raise HarnessError(f"Schematron {compiled.source}: Saxon could not compile the rules: {exc}") from exc
            if exe is None:
                raise HarnessError(f"Schematron {compiled.source}: Saxon returned no executable")
            _executables[key] = exe
        return exe


@dataclass(frozen=True)
class RawFinding:
    index: int  # into compiled.asserts
    positions: str  # element position path, "" for the document node
    message: str
    raised: bool  # the test raised a dynamic error


def run(compiled: CompiledSchematron, tree: etree._ElementTree) -> list[RawFinding]:
    """Apply the compiled Schematron to an already-parsed (safe) document."""
    text = etree.tostring(tree.getroot(), encoding="unicode")
    with _lock:
        exe = executable(compiled)
        proc = processor()
        try:
            node = proc.parse_xml(xml_text=text)
            result = exe.transform_to_string(xdm_node=node)
        except Exception as exc:
            raise HarnessError(f"Schematron {compiled.name}: Saxon failed while validating: {exc}") from exc
    if result is None:
        raise HarnessError(f"Schematron {compiled.name}: Saxon produced no result")
    out = etree.fromstring(result.encode("utf-8"))
    findings: list[RawFinding] = []
    for f in out:
        findings.append(RawFinding(
            index=int(f.get("a")), positions=f.get("p", ""), message=" ".join("".join(f.itertext()).split()),
            raised=f.get("e") == "1"))
    return findings
