"""Reference rules: resolving a reference inside the instance (contained, Bundle entries) and checking
what it points to against the element's target types and profiles.

Resolution follows FHIR's rules for Bundles: by fullUrl, then a relative `Type/id` against the base
of the referring entry's fullUrl, then by type and id. A target profile that is not loaded is never
guessed from its URL: it gives a warning "not checked: profile not loaded", as the reference validator.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from conformance.fhir.primitives import has_scheme
from conformance.fhir.values import as_list, issue

if TYPE_CHECKING:  # pragma: no cover
    from conformance.fhir.contract import RunContext
    from conformance.fhir.structure import Elem
    from conformance.issues import ValidationIssue

CORE_SD = "http://hl7.org/fhir/StructureDefinition/"
_WHITE_SPACE = re.compile(r"\s")  # the characters str.isspace() accepts (both use Py_UNICODE_ISSPACE)


class BundleIndex:
    """fullUrl / type-id lookup over one Bundle's entries, for reference resolution."""

    def __init__(self, bundle: dict[str, Any], loc: str) -> None:
        self.bundle = bundle
        self.type = bundle.get("type")
        self.by_url: dict[str, tuple[dict[str, Any], str]] = {}
        self.by_type_id: dict[str, tuple[dict[str, Any], str]] = {}
        self.url_count: dict[str, int] = {}
        self.entry_of: dict[int, tuple[str | None, str]] = {}  # id(resource) -> (fullUrl, loc)
        self.links: set[tuple[int, int]] = set()  # (id(entry resource), id(entry resource)) a reference joins
        self._type_id_entries: dict[str, list[tuple[int, str | None]]] | None = None  # built when first needed
        # set by each `resolve`: the full URL a relative Type/id resolves to by the fullUrl rules, when no entry has
        # it and the reference was resolved by type and id only (the reference validator warns then)
        self.type_id_only: str | None = None
        entries = bundle.get("entry")
        if not isinstance(entries, list):
            return
        for i, e in enumerate(entries):
            if not isinstance(e, dict):
                continue
            res = e.get("resource")
            if not isinstance(res, dict):
                continue
            rloc = f"{loc}.entry[{i}].resource"
            fu = e.get("fullUrl") if isinstance(e.get("fullUrl"), str) else None
            if fu:
                self.by_url.setdefault(fu, (res, rloc))
                self.url_count[fu] = self.url_count.get(fu, 0) + 1
            rt, rid = res.get("resourceType"), res.get("id")
            if isinstance(rt, str) and isinstance(rid, str):
                self.by_type_id.setdefault(f"{rt}/{rid}", (res, rloc))
            self.entry_of[id(res)] = (fu, rloc)

    def entries_with_type_id(self, type_id: str) -> list[tuple[int, str | None]]:
        """(index, fullUrl) of every entry whose resource has this `Type/id`."""
        if self._type_id_entries is None:
            self._type_id_entries = {}
            for i, e in enumerate(as_list(self.bundle.get("entry"))):
                res = e.get("resource") if isinstance(e, dict) else None
                if isinstance(res, dict) and isinstance(res.get("resourceType"), str) and isinstance(res.get("id"), str):
                    full = e.get("fullUrl") if isinstance(e.get("fullUrl"), str) else None
                    self._type_id_entries.setdefault(f"{res['resourceType']}/{res['id']}", []).append((i, full))
        return self._type_id_entries.get(type_id, [])

    def full_url_of(self, res: dict[str, Any]) -> str | None:
        """The fullUrl of the entry holding `res` (None: no fullUrl, or not an entry resource of this Bundle)."""
        hit = self.entry_of.get(id(res))
        return hit[0] if hit is not None else None

    def resolve(self, ref: str, from_resource: dict[str, Any] | None) -> tuple[dict[str, Any], str] | None:
        self.type_id_only = None
        hit = self.by_url.get(ref)
        if hit:
            return hit
        if "/_history/" in ref:
            hit = self.resolve(ref.split("/_history/")[0], from_resource)
            if hit:
                return hit
        if ref.startswith(("urn:", "#")):
            return None
        if "://" not in ref:
            # relative: against the base of the referring entry's fullUrl, then by type/id
            if from_resource is not None:
                fu = self.full_url_of(from_resource)
                if fu and "://" in fu:
                    parts = fu.rstrip("/").split("/")
                    if len(parts) >= 2:
                        base = "/".join(parts[:-2])
                        hit = self.by_url.get(f"{base}/{ref}")
                        if hit:
                            return hit
                        if ref in self.by_type_id:
                            self.type_id_only = f"{base}/{ref}"
                elif fu and fu.startswith("urn:uuid:") and ref.count("/") == 1:
                    # the referrer has a urn:uuid fullUrl, so no RESTful base: Type/id means the entry urn:uuid:id
                    # (the reference validator's rule), never an entry that only has that type and id
                    hit = self.by_url.get("urn:uuid:" + ref.split("/")[1])
                    if hit is None and ref in self.by_type_id:
                        self.type_id_only = "urn:uuid:" + ref.split("/")[1]
                    return hit
                elif fu and fu.startswith("urn:") and ref.count("/") == 1 and ref in self.by_type_id:
                    self.type_id_only = fu[:fu.rfind(":") + 1] + ref.split("/")[1]
            return self.by_type_id.get(ref)
        # absolute: Type/id at the end may still match an entry without a matching fullUrl
        parts = ref.rstrip("/").split("/")
        if len(parts) >= 2:
            tid = f"{parts[-2]}/{parts[-1]}"
            hit = self.by_type_id.get(tid)
            if hit is not None:
                fu = self.full_url_of(hit[0])
                if fu is None or not fu.startswith("urn:"):
                    return hit
        return None


def type_of_reference(ref: str) -> str | None:
    """The resource type a literal reference names (`Patient/1`, `http://x/fhir/Patient/1/_history/2`)."""
    if ref.startswith(("urn:", "#")):
        return None
    parts = ref.split("/_history/")[0].rstrip("/").split("/")
    if len(parts) >= 2 and parts[-2][:1].isupper() and parts[-2].isalpha():
        return parts[-2]
    return None


def current_container(run: RunContext) -> dict[str, Any] | None:
    """The resource whose `contained` a '#id' reference points into (the outermost non-entry one)."""
    if not run.resources:
        return None
    res = run.resources[-1][0]
    for r, _l in reversed(run.resources[:-1]):
        if isinstance(r.get("contained"), list) and any(x is res for x in r["contained"]):
            res = r
        else:
            break
    return res


def resolve(run: RunContext, ref: str) -> tuple[dict[str, Any], str] | None:
    """The (resource, location) a reference points to inside the instance being validated, or None."""
    if ref.startswith("#"):
        res = current_container(run)
        if res is None:
            return None
        if ref == "#":
            return res, ""
        for c in as_list(res.get("contained")):
            if isinstance(c, dict) and c.get("id") == ref[1:]:
                return c, ""
        return None
    current = run.resources[-1][0] if run.resources else None
    for b in reversed(run.bundles):
        # find the entry resource that holds the current one
        holder = current
        for r, _l in reversed(run.resources):
            if id(r) in b.entry_of:
                holder = r
                break
        hit = b.resolve(ref, holder)
        if hit is not None:
            return hit
    for res, rloc in run.resources:
        if res.get("resourceType") == "Parameters":
            hit = _in_parameters(res.get("parameter"), f"{rloc}.parameter", ref, type_id_of(ref))
            if hit is not None:
                return hit
    return None


def type_id_of(ref: str) -> str:
    """The `Type/id` a reference ends in, without a version (`http://x/fhir/Patient/1/_history/2` -> Patient/1);
    a reference without a '/' comes back unchanged."""
    return "/".join(ref.split("/_history/")[0].rstrip("/").split("/")[-2:])


PARAMETERS_FULL_URL = "http://hl7.org/fhir/StructureDefinition/parameters-fullUrl"


def _in_parameters(params: Any, loc: str, ref: str, tail: str) -> tuple[dict[str, Any], str] | None:
    """The resource of a Parameters parameter (or part, at any depth) that `ref` names: by the fullUrl its
    parameters-fullUrl extension gives, else by `Type/id` (the reference validator resolves inside Parameters
    as inside a Bundle); `tail` is `type_id_of(ref)`."""
    if not isinstance(params, list):
        return None
    for i, p in enumerate(params):
        if not isinstance(p, dict):
            continue
        res = p.get("resource")
        if isinstance(res, dict):
            urls = [x.get("valueUri") for x in as_list(p.get("extension")) if isinstance(x, dict)
                    and x.get("url") == PARAMETERS_FULL_URL]
            if ref in urls or (not ref.startswith("urn:") and f"{res.get('resourceType')}/{res.get('id')}" == tail):
                return res, f"{loc}[{i}].resource"
        hit = _in_parameters(p.get("part"), f"{loc}[{i}].part", ref, tail)
        if hit is not None:
            return hit
    return None


def _outside(run: RunContext, ref: str) -> tuple[dict[str, Any], str] | None:
    """Where a reference that does not resolve inside the instance may still point when references are checked
    (`Settings.check_references`): the resource being validated itself, by `Type/id` (a target that refers back
    to its source), or a resource given with `Validator.add_reference_target` (location "": outside the instance)."""
    if run.resources:
        root, rloc = run.resources[0]
        if f"{root.get('resourceType')}/{root.get('id')}" == type_id_of(ref):
            return root, rloc or root.get("resourceType", "")
    found = run.v.reference_target(ref)
    return (found, "") if found is not None else None


def check_reference(run: RunContext, val: dict[str, Any], elem: Elem, targets: tuple[str, ...], loc: str,
                    sink: list[ValidationIssue]) -> None:
    """A Reference value: it resolves where it must, to an allowed type, conforming to a target profile; its
    `type`, when given, is one of the allowed types and the type of what it points to."""
    ref = val.get("reference")
    declared = val.get("type")
    if isinstance(declared, str) and declared and targets:
        _check_declared_type(run, declared, targets, loc, sink)
    if not isinstance(ref, str) or not ref:  # an empty reference is reported as an empty value
        return
    if _WHITE_SPACE.search(ref) is not None:
        sink.append(issue("error", "structure", loc, f"The reference '{ref}' is not a valid reference (it contains "
                          "white space)", "reference.invalid"))
        return
    if run.bundles and ref.count("/") not in (1, 3) and _bad_relative_form(run, ref):
        sink.append(issue("error", "invalid", loc, f"Relative URLs must be of the format [ResourceName]/[id]. "
                          f"Encountered {ref} (hint: write Type/id, Type/id/_history/version, or the entry's full "
                          "URL)", "reference.format"))
        return
    named = type_of_reference(ref)
    if named and "/" in ref and named not in run.v.resource_types():
        sink.append(issue("error", "structure", loc, f"The resource type {named} in the reference {ref} is not "
                          "valid (hint: a literal reference is [base/]Type/id with an R4 resource type)",
                          "reference.resource-type"))
        return
    hit = resolve(run, ref)
    if run.bundles and run.bundles[-1].type_id_only is not None and named and ref.count("/") == 1:
        _matches_by_type_id_only(run.bundles[-1], ref, loc, sink)
    actual = None if not isinstance(declared, str) or not declared else hit[0].get("resourceType") \
        if hit is not None else named if named in run.v.resource_types() else None
    if isinstance(actual, str) and declared != actual and not has_scheme(declared):
        sink.append(issue("error", "structure", loc, f"Invalid Resource target type. Found {declared}, but expected "
                          f"one of ({actual}) (hint: Reference.type is the type of the resource referred to)",
                          "reference.declared-type"))
    policy = run.settings.check_references
    outside = False
    if hit is None and elem.aggregation and "referenced" not in elem.aggregation:
        sink.append(issue("error", "required", loc, f"Bundled or contained reference not found within the "
                          f"bundle/resource {ref} (hint: the profile allows only {' or '.join(elem.aggregation)} "
                          "references here)", "reference.aggregation", elem.sd_url))
        return
    if hit is None and policy != "ignore" and not ref.startswith("#"):
        hit = _outside(run, ref)
        outside = hit is not None and not hit[1]
        if hit is None:
            reported = _unresolved(run, ref, loc, sink)
            if not reported and named is not None:  # a URL that names no resource (an endpoint) is not judged
                sink.append(issue("error", "not-found", loc, f"Unable to resolve resource with reference '{ref}' "
                                  "(hint: references are checked; give the validator the resource it points to: "
                                  "`conformance validate --reference-dir FOLDER`)", "reference.not-found"))
            return
    if hit is None:
        if ref.startswith("#"):
            sink.append(issue("error", "invariant", f"{loc}", f"Constraint failed: ref-1: 'SHALL have a contained "
                              f"resource if a local reference is provided' (no contained resource with id "
                              f"{ref[1:]!r})", "ref-1"))
            return
        _unresolved(run, ref, loc, sink)
        tgt_type = named if run.settings.assume_valid_rest_references else None
        if tgt_type and targets:
            check_target_type(run, tgt_type, targets, loc, sink)
        return
    if in_bundle_duplicate(run, ref):
        sink.append(issue("error", "structure", f"{loc}.reference", f"the reference {ref!r} matches more than one "
                          "entry of the Bundle (hint: fullUrls must be unique)", "reference.multiple-matches"))
    target, tloc = hit
    if elem.aggregation and not outside:
        mode = "contained" if ref.startswith("#") else "bundled"
        if mode not in elem.aggregation and (mode == "contained" or "referenced" not in elem.aggregation):
            sink.append(issue("error", "structure", loc, f"Reference is {mode} which isn't supported by the "
                              f"specified aggregation mode(s) for the reference ({', '.join(elem.aggregation)})",
                              "reference.aggregation", elem.sd_url))
    _link(run, target)
    rt = target.get("resourceType")
    if named and isinstance(rt, str) and named != rt:
        sink.append(issue("error", "structure", loc, f"Matching reference for reference {ref} has resourceType {rt} "
                          f"(hint: the reference names a {named})", "reference.type-mismatch"))
        return
    if not targets or not isinstance(rt, str) or (outside and policy == "exists"):
        return
    if not check_target_type(run, rt, targets, loc, sink):
        return
    profiles = _profiles_to_check(targets, rt)
    if not profiles or (outside and policy != "valid") or (not tloc and not outside):
        return
    if outside:  # a target outside the instance: its own findings belong to its own validation
        loaded = [p for p in profiles if run._profile_type(p) in (rt, "Resource", "DomainResource")]
        if loaded and not any(run.conforms(target, p, ref) for p in loaded):
            sink.append(issue("error", "structure", loc, f"the referenced {rt} ({ref}) does not conform to any "
                              f"of the target profiles {', '.join(profiles)}", elem.id, elem.sd_url))
        return
    loaded = [p for p in profiles if run._profile_type(p) is not None]
    unloaded = [p for p in profiles if run._profile_type(p) is None]
    matching = [p for p in loaded if run._profile_type(p) in (rt, "Resource", "DomainResource")]
    if any(run.conforms(target, p, tloc) for p in matching):
        return
    if unloaded:
        sink.append(issue("warning", "not-found", loc, f"the referenced {rt} ({ref}) was not checked against the "
                          f"target profile(s) {', '.join(unloaded)}: profile not loaded (hint: `conformance packages "
                          "add` the package that defines it)", "reference.target-profile-not-loaded",
                          elem.sd_url))
        return
    if len(matching) == 1:
        # one profile it had to meet: report why it does not (at the target, where the cause is) rather than
        # the consequence here; duplicates of the target's own findings collapse in the outcome
        why = [i for i in run.profile_issues(target, matching[0], tloc) if i.is_error]
        if why:
            sink.extend(why)
            return
    sink.append(issue("error", "structure", loc, f"the referenced {rt} ({ref}) does not conform to any "
                      f"of the target profiles {', '.join(profiles)}", elem.id, elem.sd_url))


def _check_declared_type(run: RunContext, declared: str, targets: tuple[str, ...], loc: str,
                         sink: list[ValidationIssue]) -> None:
    """`Reference.type` must be one of the types the element's target profiles allow (unless one allows any
    resource, or one is not loaded: then what it allows is unknown)."""
    allowed, unloaded = run.v.target_types(targets)
    if unloaded or {"Resource", "DomainResource"} & allowed or not allowed:
        return
    if declared in allowed or declared in targets or CORE_SD + declared in targets:
        return
    sink.append(issue("error", "structure", loc, f"The type '{declared}' is not a valid Target for this element "
                      f"(must be one of {', '.join(sorted(allowed))})", "reference.declared-type"))


def _bad_relative_form(run: RunContext, ref: str) -> bool:
    """Inside a Bundle, from an entry with a fullUrl, a relative reference is `Type/id` or `Type/id/_history/v`:
    anything else cannot be resolved against the entry's base (the reference validator's rule). The caller has
    checked the cheap part on the hot path: there is a Bundle, and `ref` has neither 1 nor 3 slashes."""
    if ref.startswith("#") or "?" in ref or has_scheme(ref):
        return False
    b = run.bundles[-1]
    holder = next((r for r, _l in reversed(run.resources) if id(r) in b.entry_of), None)
    return holder is not None and b.full_url_of(holder) is not None


def _matches_by_type_id_only(b: BundleIndex, ref: str, loc: str, sink: list[ValidationIssue]) -> None:
    """The reference validator's warnings for a `Type/id` reference that the Bundle's fullUrl rules do not resolve
    (to `b.type_id_only`) but that entries match by type and id: it may mean one of them, or another resource."""
    target, matches = b.type_id_only, b.entries_with_type_id(ref)
    if len(matches) > 1:
        sink.append(issue("warning", "required", loc, f"The bundle contains no match for {target} by the rules of "
                          f"Bundle reference resolution, but it has multiple resources that match {ref} by resource "
                          "type and id", "reference.bundle-possible-matches"))
    said = "; ".join(f"Entry {i} matches the reference {ref} by type and id but its fullUrl {full} does not match "
                     f"the full target URL {target} by Bundle resolution rules" if full else
                     f"Entry {i} matches the reference {ref} by type and id but it has no fullUrl" for i, full in matches)
    sink.append(issue("warning", "required", loc, f"{said} (hint: reference the entry by its fullUrl, or give it the "
                      "fullUrl the reference resolves to)", "reference.bundle-wrong-fullurl"))


def _unresolved(run: RunContext, ref: str, loc: str, sink: list[ValidationIssue]) -> bool:
    """Report a reference that resolves nowhere in the enclosing Bundle where FHIR says it must; True when that
    was an error."""
    in_bundle = run.bundles[-1] if run.bundles else None
    if in_bundle is not None and (ref.startswith(("urn:uuid:", "urn:oid:")) or in_bundle.type in ("document",
                                                                                                  "message")):
        sev = "error" if (in_bundle.type in ("document", "message") or ref.startswith("urn:")) else "warning"
        same = in_bundle.by_type_id.get(ref) if "://" not in ref and not ref.startswith("urn:") else None
        if same is not None:
            fu = in_bundle.full_url_of(same[0])
            why = (f"; {same[1].removesuffix('.resource')} has the same type and id, but its fullUrl {fu!r} is not "
                   "what the reference resolves to by the Bundle's fullUrl rules (a Type/id from an entry whose "
                   "fullUrl is a urn:uuid means urn:uuid:<id>) (hint: reference that entry by its fullUrl)")
        else:
            why = " (hint: add the referenced resource as an entry whose fullUrl matches)"
        sink.append(issue(sev, "not-found", f"{loc}.reference", f"the reference {ref!r} does not resolve to "
                          f"any entry in the {in_bundle.type or ''} Bundle{why}", "reference.unresolved"))
        return sev == "error"
    if in_bundle is None and ref.startswith("urn:uuid:"):
        sink.append(issue("warning", "not-found", f"{loc}.reference", f"the reference {ref!r} is a urn:uuid "
                          "that cannot resolve outside a Bundle", "reference.unresolved"))
    return False


_TO_CHECK: dict[tuple[tuple[str, ...], str], list[str]] = {}


def _profiles_to_check(targets: tuple[str, ...], rt: str) -> list[str]:
    """The target profiles a resolved `rt` must conform to one of: none when a target is the base type (or
    Resource) itself. Depends on the strings only, so it is kept per (targets, rt)."""
    hit = _TO_CHECK.get((targets, rt))
    if hit is None:
        profiles = [t for t in targets if not t.startswith(CORE_SD)]
        base_ok = any(t == CORE_SD + rt or t == CORE_SD + "Resource" for t in targets)
        if len(_TO_CHECK) > 4096:  # rt comes from the instance: keep the table bounded
            _TO_CHECK.clear()
        hit = _TO_CHECK[(targets, rt)] = [] if base_ok else profiles
    return hit


def _link(run: RunContext, target: dict[str, Any]) -> None:
    """Record that the entry being walked refers to `target` (for the reachability rule of documents)."""
    if not run.bundles:
        return
    b = run.bundles[-1]
    if id(target) not in b.entry_of:
        return
    for r, _l in reversed(run.resources):
        if id(r) in b.entry_of:
            if r is not target:
                b.links.add((id(r), id(target)))
            return


def in_bundle_duplicate(run: RunContext, ref: str) -> bool:
    """Does `ref` (an absolute or urn reference) match several entries of the innermost Bundle by fullUrl?"""
    if not run.bundles or "/" not in ref and not ref.startswith("urn:"):
        return False
    return run.bundles[-1].url_count.get(ref, 0) > 1


def check_target_type(run: RunContext, rt: str, targets: tuple[str, ...], loc: str,
                      sink: list[ValidationIssue]) -> bool:
    """Is a `rt` allowed by these target profiles? An unloaded target profile allows anything (with a warning
    from the profile check), since the type it constrains is unknown."""
    allowed, unloaded = run.v.target_types(targets)
    if rt in allowed or "Resource" in allowed or "DomainResource" in allowed:
        return True
    if unloaded:
        sink.append(issue("warning", "not-found", loc, f"the reference points to a {rt}; not checked against the "
                          f"target profile(s) {', '.join(unloaded)}: profile not loaded (hint: `conformance "
                          "packages add` the package that defines it)", "reference.target-profile-not-loaded"))
        return False
    sink.append(issue("error", "structure", loc, f"the reference points to a {rt}, but only "
                      f"{', '.join(sorted(allowed))} are allowed here", "reference.target-type"))
    return False
