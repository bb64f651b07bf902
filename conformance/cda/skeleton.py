"""The reference Schematron implementation we measure our compiler against.

The ISO skeleton (the XSLT 1 chain that lxml ships: iso_dsdl_include -> iso_abstract_expand ->
iso_svrl_for_xslt1) run by Saxon. It refuses ``queryBinding="xslt2"``, so the binding is
relabelled ``xslt`` in memory; Saxon still evaluates the XPath 2 tests (``matches()``) because
it implements XPath 3.1 in every mode. Used by tests/cda (same findings as our compiler on
every eHDSI sample) and benchmarks/cda.py (speed); not on the validation path.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

from .paths import element_path

SVRL = "http://purl.oclc.org/dsdl/svrl"


def _skeleton_dir() -> Path:
    import lxml.isoschematron

    return Path(lxml.isoschematron.__file__).parent / "resources" / "xsl" / "iso-schematron-xslt1"


_processor = None


def _proc():  # -> saxonche.PySaxonProcessor
    """A processor of its own: the skeleton's stylesheets xsl:import each other from disk, which
    the validation processor (no file or network access from stylesheets) rightly refuses."""
    global _processor
    if _processor is None:
        from saxonche import PySaxonProcessor

        _processor = PySaxonProcessor(license=False)
    return _processor


@dataclass
class SkeletonSchematron:
    source: str
    xslt: str
    executable: object


def compile_with_skeleton(path: Path) -> SkeletonSchematron:
    proc = _proc()
    xslt30 = proc.new_xslt30_processor()
    steps = [xslt30.compile_stylesheet(stylesheet_file=str(_skeleton_dir() / name))
             for name in ("iso_dsdl_include.xsl", "iso_abstract_expand.xsl", "iso_svrl_for_xslt1.xsl")]
    text = Path(path).read_text("utf-8")
    text = re.sub(r'queryBinding="xslt2"', 'queryBinding="xslt"', text, count=1)
    node = proc.parse_xml(xml_text=re.sub(r"^<\?xml[^>]*\?>", "", text))
    for step in steps[:2]:
        node = step.transform_to_value(xdm_node=node).head
    generated = steps[2].transform_to_string(xdm_node=node)
    return SkeletonSchematron(str(path), generated, xslt30.compile_stylesheet(stylesheet_text=generated))


@dataclass(frozen=True)
class SkeletonFinding:
    kind: str  # "assert" | "report"
    test: str
    location: str  # our element path, or the SVRL location when it does not resolve
    text: str


def run_skeleton(compiled: SkeletonSchematron, tree: etree._ElementTree) -> list[SkeletonFinding]:
    proc = _proc()
    node = proc.parse_xml(xml_text=etree.tostring(tree.getroot(), encoding="unicode"))
    out = etree.fromstring(compiled.executable.transform_to_string(xdm_node=node).encode("utf-8"))
    findings: list[SkeletonFinding] = []
    for el in out.iter(f"{{{SVRL}}}failed-assert", f"{{{SVRL}}}successful-report"):
        kind = "assert" if el.tag.endswith("failed-assert") else "report"
        raw = el.get("location", "")
        location = raw
        try:
            hit = tree.xpath(raw)
        except etree.XPathError:
            hit = []
        if hit:
            first = hit[0]
            if isinstance(first, etree._Element):
                location = element_path(first) if first.getparent() is not None or first is tree.getroot() else "/"
            elif hasattr(first, "getparent") and first.getparent() is not None:  # attribute result
                location = f"{element_path(first.getparent())}/@{first.attrname}"
        elif raw == "/":
            location = "/"
        text = " ".join("".join(el.itertext()).split())
        findings.append(SkeletonFinding(kind, el.get("test", ""), location, text))
    return findings
