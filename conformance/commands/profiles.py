"""`conformance profiles` — list the available profiles, or show one profile's requirements.

Why: a certifier and a vendor must be able to see exactly which requirements a
run measures (including inherited ones and where they are declared) before
running anything.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from conformance.model import Level, Profile
from conformance.profiles import available_profiles, load_profile

LEVELS = tuple(level.value for level in Level)


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "profiles", help="list requirement profiles, or show one profile's requirements",
        description="List the requirement profiles (shipped, plus those in --dir), or show one profile's "
        "requirements with `conformance profiles show ID`.")
    _common(parser)
    parser.set_defaults(func=_list)
    sub = parser.add_subparsers(dest="profiles_command", metavar="{list,show}")
    lister = sub.add_parser("list", help="list profiles (the default)")
    _common(lister)
    lister.set_defaults(func=_list)
    show = sub.add_parser("show", help="list the requirements of one profile (inherited ones included)")
    show.add_argument("profile", help="profile id (see `conformance profiles`) or path to a profile .yaml file")
    _common(show)
    show.set_defaults(func=_show)


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--format", choices=("text", "json"), default=argparse.SUPPRESS,
                        help="output format (default: text)")
    parser.add_argument("--dir", dest="dirs", action="append", type=Path, default=argparse.SUPPRESS,
                        metavar="DIR", help="also look for profiles in DIR (repeatable)")


def _counts(profile: Profile) -> dict[str, int]:
    counted = Counter(r.level.value for r in profile.requirements)
    return {level: counted.get(level, 0) for level in LEVELS}


def _list(args: argparse.Namespace) -> int:
    dirs = getattr(args, "dirs", [])
    profiles = [load_profile(pid, dirs) for pid in sorted(available_profiles(dirs))]
    if getattr(args, "format", "text") == "json":
        rows = [{**p.to_json(), "title": p.title, "path": p.path, "requirements": len(p.requirements),
                 "by_level": _counts(p)} for p in profiles]
        json.dump({"profiles": rows}, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return 0
    id_w = max([len("ID"), *(len(p.id) for p in profiles)])
    ver_w = max([len("VERSION"), *(len(p.version) for p in profiles)])
    print(f"{'ID':<{id_w}}  {'VERSION':<{ver_w}}  {'REQS':>4}  {'SHALL':>5}  {'SHOULD':>6}  {'MAY':>3}  TITLE")
    for p in profiles:
        c = _counts(p)
        print(f"{p.id:<{id_w}}  {p.version:<{ver_w}}  {len(p.requirements):>4}  {c['SHALL']:>5}  "
              f"{c['SHOULD']:>6}  {c['MAY']:>3}  {p.title}")
    return 0


def _show(args: argparse.Namespace) -> int:
    profile = load_profile(args.profile, getattr(args, "dirs", []))
    if getattr(args, "format", "text") == "json":
        out = {**profile.to_json(), "title": profile.title, "description": profile.description,
               "path": profile.path, "by_level": _counts(profile),
               "requirements": [r.to_json() for r in profile.requirements]}
        json.dump(out, sys.stdout, indent=2, ensure_ascii=False)
        sys.stdout.write("\n")
        return 0
    c = _counts(profile)
    print(f"{profile.id} {profile.version} - {profile.title}")
    print(f"  extends: {', '.join(profile.extends) or '-'}")
    print(f"  FHIR {profile.fhir_version}; packages: {', '.join(profile.fhir_packages) or '-'}")
    print(f"  file: {profile.path}")
    print(f"  sha256: {profile.sha256}")
    print(f"  {len(profile.requirements)} requirements: " + ", ".join(f"{k} {v}" for k, v in c.items()))
    print()
    rows = [(r.id, r.level.value, r.category.value, r.profile, r.title) for r in profile.requirements]
    heads = ("ID", "LEVEL", "CATEGORY", "DECLARED IN", "TITLE")
    widths = [max(len(h), *(len(row[i]) for row in rows)) if rows else len(h) for i, h in enumerate(heads[:-1])]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths) + "  {}"
    print(fmt.format(*heads))
    for row in rows:
        print(fmt.format(*row))
    return 0
