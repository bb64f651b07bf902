"""`conformance packages list|add|remove`: the FHIR packages the validator loads.

Shipped packages live in profiles/packages/ (pinned, trimmed copies with provenance);
`add` installs another NPM-style package (.tgz or folder, e.g. a vendor's EU Patient Summary
package) into the user package store, which every later validation loads too.
"""

from __future__ import annotations

import argparse
from typing import Any

import orjson

from conformance.errors import UsageError


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("packages", help="list / add / remove FHIR packages used for validation",
                              description="Manage the FHIR packages (NPM-style .tgz or package folders) the "
                                          "offline validator loads.")
    sub = p.add_subparsers(dest="packages_command", metavar="ACTION")
    ls = sub.add_parser("list", help="show the loaded packages (name, version, sha256, contents)")
    ls.add_argument("--format", choices=("text", "json"), default="text")
    ls.set_defaults(func=run_list)
    add = sub.add_parser("add", help="install a package (.tgz or folder with package/package.json)")
    add.add_argument("file", metavar="FILE")
    add.set_defaults(func=run_add)
    rm = sub.add_parser("remove", help="remove an installed package by name or name#version")
    rm.add_argument("name", metavar="NAME")
    rm.set_defaults(func=run_remove)
    p.set_defaults(func=lambda args: run_list(argparse.Namespace(format="text")))


def run_list(args: argparse.Namespace) -> int:
    from conformance.fhir.packages import find_package_folders, installed_user_packages, load_package, user_packages_dir
    from conformance.resources import fhir_packages_dir

    rows = []
    for origin, folders in (("shipped", find_package_folders(fhir_packages_dir())),
                            ("installed", installed_user_packages())):
        for folder in folders:
            pkg = load_package(folder)
            rows.append({"name": pkg.name, "version": pkg.version, "sha256": pkg.sha256, "origin": origin,
                         "path": str(folder), "resources": dict(sorted(pkg.counts.items()))})
    if args.format == "json":
        print(orjson.dumps(rows, option=orjson.OPT_INDENT_2).decode())
        return 0
    width = max((len(r["name"]) + len(r["version"]) + 1 for r in rows), default=10)
    for r in rows:
        counts = ", ".join(f"{n} {t}" for t, n in r["resources"].items())
        print(f"{(r['name'] + '#' + r['version']):<{width}}  {r['origin']:<9}  sha256:{r['sha256'][:16]}  {counts}")
    print(f"(user package store: {user_packages_dir()})")
    return 0


def run_add(args: argparse.Namespace) -> int:
    from conformance.fhir.packages import install_package

    info = install_package(args.file)
    if info.fhir_versions and not any(v.startswith("4.0") for v in info.fhir_versions):
        print(f"warning: {info.name}#{info.version} declares FHIR {', '.join(info.fhir_versions)}; "
              "this validator checks R4 (4.0.1)")
    print(f"installed {info.name}#{info.version} (sha256:{info.sha256[:16]}) into {info.path}")
    return 0


def run_remove(args: argparse.Namespace) -> int:
    from conformance.fhir.packages import remove_package

    try:
        path = remove_package(args.name)
    except UsageError:
        raise
    print(f"removed {path.name}")
    return 0
