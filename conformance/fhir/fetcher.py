"""Resources outside the instance that references may resolve to: a folder of resource files, read the way the
reference validator's test fetcher and IG publisher output name them (`Settings.check_references`)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from conformance.fhir.xmlreader import parse_fhir_xml

if TYPE_CHECKING:  # pragma: no cover
    from conformance.fhir.validator import Validator

Fetch = Callable[[str, str, "Validator"], "dict[str, Any] | None"]


def folder_fetcher(folder: str | os.PathLike[str]) -> Fetch:
    """A fetcher for `Validator.add_reference_fetcher`: `Type/id` is the file `<id>.json`, `<id>.xml`,
    `<Type>-<id>.json` or `<Type>-<id>.xml` in `folder` holding that resource type and id. An unreadable file or
    one holding another resource is a target not found, never a crash."""
    path = Path(folder)
    if not path.is_dir():
        raise ValueError(f"{folder}: not a folder (hint: --reference-dir takes a folder of resource files)")

    def fetch(rtype: str, rid: str, validator: Validator) -> dict[str, Any] | None:
        if not rid or "/" in rid or "\\" in rid or rid.startswith("."):
            return None  # an id never names a file outside the folder
        for name in (f"{rid}.json", f"{rid}.xml", f"{rtype}-{rid}.json", f"{rtype}-{rid}.xml"):
            file = path / name
            if not file.is_file():
                continue
            try:
                data = file.read_bytes()
                res = orjson.loads(data) if name.endswith(".json") else parse_fhir_xml(data, validator).resource
            except Exception:  # noqa: BLE001 - unreadable: not this target
                continue
            if isinstance(res, dict) and res.get("resourceType") == rtype and res.get("id") == rid:
                return res
        return None

    return fetch
