"""Extension rules: resolve an extension's definition by url, apply the unknown-extension policy, check
where it is used against the definition's context.

An unknown extension is an error unless its URL is in an allowed domain (`Settings`: configured
domains, `any_extension`, the example domains the reference validator accepts). An HL7 extension outside R4
core is a warning "not checked" when the HL7 extensions pack defines it and an error when it does not
(`extension_pack`); cross-version extensions are not checked offline and say so.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from conformance.fhir.context import CORE_SD
from conformance.fhir.extension_pack import in_extension_pack, pack_version, spelled_like
from conformance.fhir.settings import is_example_url
from conformance.fhir.values import issue

if TYPE_CHECKING:  # pragma: no cover
    from conformance.fhir.contract import RunContext
    from conformance.fhir.structure import CompiledStructure, Elem
    from conformance.issues import ValidationIssue

CROSS_VERSION = ("http://hl7.org/fhir/5.0/StructureDefinition/extension-", "http://hl7.org/fhir/4.3/StructureDefinition/",
                 "http://hl7.org/fhir/3.0/StructureDefinition/extension-", "http://hl7.org/fhir/1.0/StructureDefinition/")
_ABSOLUTE = ("http:", "https:", "urn:")


def check_extension(run: RunContext, val: dict[str, Any], elem: Elem, loc: str, sink: list[ValidationIssue]) -> None:
    """One Extension value whose definition is found by its url (no type profile on the element)."""
    url = val.get("url")
    if not isinstance(url, str):
        return  # cardinality of url reports it
    if elem.path == "Extension.extension" and not url.startswith(_ABSOLUTE):
        return  # a sub-extension of a complex extension, named by a relative url (its slice checks it)
    if url.startswith(CROSS_VERSION):
        sink.append(issue("information", "informational", loc, f"cross-version extension {url} is not checked "
                          "offline", "extension.cross-version"))
        return
    cs = run.v.structure(url.partition("|")[0])
    if cs is None:
        if not url.startswith(_ABSOLUTE):
            sink.append(issue("error", "structure", f"{loc}.url", f"extension url {url!r} must be an absolute "
                              "URL", "extension.url"))
            return
        if run.settings.extension_allowed(url):
            sink.append(issue("warning", "not-found", loc, f"unknown extension {url} (allowed by the extension "
                              "policy; not checked)", "extension.unknown"))
            return
        if url.startswith(CORE_SD):  # an HL7 extension
            if in_extension_pack(url):
                sink.append(issue("warning", "not-found", loc, f"the extension {url} is defined by the HL7 "
                                  f"extensions pack ({pack_version()}), which is not loaded; not checked (hint: "
                                  f"`conformance packages add` the pack to check it)", "extension.unknown"))
                return
            near = spelled_like(url, run.v.defs.same_but_case)
            hint = f"did you mean {near}? URLs are case-sensitive" if near else \
                "check the URL's spelling, or load the package that defines it"
            sink.append(issue("error", "structure", loc, f"The extension {url} could not be found so is not allowed "
                              f"here: neither R4 core nor the HL7 extensions pack ({pack_version()}) defines it "
                              f"(hint: {hint})", "extension.unknown"))
            return
        if is_example_url(url):
            sink.append(issue("error", "invalid", f"{loc}.url", f"Example URLs are not allowed in this context ({url}) "
                              "(hint: example URLs are refused by the settings)", "extension.example-url"))
        sink.append(issue("error", "structure", loc, f"the extension {url} is unknown, and not allowed here "
                          "(hint: load the package that defines it with `conformance packages add`, or allow its "
                          "domain with --extension-domain / --any-extension)", "extension.unknown"))
        return
    if cs.type != "Extension":
        sink.append(issue("error", "structure", loc, f"{url} is a {cs.type} profile, not an extension definition",
                          "extension.unknown"))
        return
    if "|" in url:  # Extension.url is a fixed uri; a version on it is no part of the identity
        sink.append(issue("error", "structure", loc, "The extension URL must not contain a version (hint: write "
                          f"{url.partition('|')[0]}; the extension was checked against the loaded definition)",
                          "extension.versioned-url", cs.url))
    as_modifier = elem.path.endswith(".modifierExtension")
    if cs.root.is_modifier != as_modifier:
        what, kind = ("a modifierExtension", "a regular extension") if as_modifier else \
            ("an extension", "a modifierExtension")
        sink.append(issue("error", "structure", loc, f"The Extension '{url}' must not be used as {what} (it's {kind}; "
                          f"hint: move it to {'extension' if as_modifier else 'modifierExtension'})",
                          "extension.modifier", cs.url))
    run._object(val, cs.root, cs.root, "Extension", loc, sink)
    check_extension_context(run, cs, loc, sink)
    check_sub_extensions(cs, val, loc, sink)


def check_sub_extensions(cs: CompiledStructure, val: dict[str, Any], loc: str, sink: list[ValidationIssue]) -> None:
    """A complex extension's sub-extensions with a relative url must be ones its definition slices out."""
    subs = val.get("extension")
    sliced = cs.root.children.get("extension")
    if not isinstance(subs, list) or sliced is None or sliced.slicing is None or not sliced.slices:
        return
    known = set()
    for sl in sliced.slices:
        if sl.slice_name:
            known.add(sl.slice_name)
        url_elem = sl.children.get("url")
        if url_elem is not None and url_elem.fixed is not None:
            known.add(url_elem.fixed[1])
        for t in sl.types:
            known.update(p.partition("|")[0] for p in t.profiles)
    for i, sub in enumerate(subs):
        url = sub.get("url") if isinstance(sub, dict) else None
        if isinstance(url, str) and not url.startswith(_ABSOLUTE) and url not in known:
            sink.append(issue("error", "structure", f"{loc}.extension[{i}]", f"Sub-extension url '{url}' is not "
                              f"defined by the Extension {cs.url} (defined: {', '.join(sorted(map(str, known)))})",
                              "extension.sub-extension", cs.url))


def check_extension_context(run: RunContext, cs: CompiledStructure, loc: str, sink: list[ValidationIssue]) -> None:
    """The element holding the extension must be one of the definition's contexts. A FHIRPath context is
    evaluated on the resource: the holder must be among its results (undecidable expressions allow)."""
    if not cs.context or not run.hosts:
        return
    host, host_type, host_obj = run.hosts[-1]  # the object holding the extension
    candidates = {host.path, host.base_path, host_type, "Element", "Base"}
    if "." not in host.path:
        candidates |= {"Resource", "DomainResource"} if host.sd_url and run._is_resource_type(host_type) else set()
    if host_type == "Extension":
        candidates.add("Extension")
    for ctype, expr in cs.context:
        e = expr.strip()
        if ctype == "fhirpath":
            if _fhirpath_context_allows(run, e, host_obj):
                return
            continue
        if e in candidates:
            return
        if ctype == "extension" and host_type == "Extension":
            return
        if ctype == "element" and run.v.structure(e.split(".")[0]) is None:
            return  # a context type R4 does not have (e.g. R5 CanonicalResource): not decidable here
    allowed = ", ".join(e for _t, e in cs.context)
    where = host.base_path or host.path
    host_loc = loc.rsplit(".", 1)[0] if "." in loc else loc
    sink.append(issue("error", "structure", host_loc, f"the extension {cs.url} is not allowed at {where} (allowed "
                      f"contexts: {allowed})", "extension.context", cs.url))


def _fhirpath_context_allows(run: RunContext, expression: str, host_obj: Any) -> bool:
    """Is the object holding the extension among the results of a FHIRPath context on its resource?"""
    if not run.resources:
        return True
    resource = run.resources[-1][0]
    try:
        import fhirpathpy

        found = fhirpathpy.evaluate(resource, expression)
    except Exception:  # noqa: BLE001 - an expression the engine cannot run: never reject on it
        return True
    return any(r is host_obj or r == host_obj for r in found)
