"""`conformance report` — sign, verify, compare and re-render certification reports.

Why: a report is only worth something if a certifier can check that nobody changed
it (sign / verify), and a CI pipeline can block a change that breaks a requirement
that used to pass (diff --fail-on regression).

  conformance report keygen KEY.pem                  make a signing key pair (KEY.pem, KEY.pub.pem)
  conformance report sign DIR --key KEY.pem          write DIR/manifest.jws
  conformance report verify DIR [--key KEY.pub.pem]  exit 1 and name every changed file
  conformance report diff OLD NEW [--fail-on regression|change|none] [--policy shall|should|all]
  conformance report summary DIR                     print the Markdown summary
  conformance report render SRC OUT [--attestations FILE] [--force]   re-write all artefacts from a report.json
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from conformance.errors import UsageError

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "report",
        help="sign, verify, diff and re-render certification reports",
        description="Work with report directories written by `conformance run` (reports/<run-id>/).",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.split("\n\n", 2)[2],
    )
    parser.set_defaults(func=lambda args: _help(parser))
    sub = parser.add_subparsers(dest="report_command", metavar="{keygen,sign,verify,diff,summary,render}")

    p = sub.add_parser("keygen", help="create a key pair for signing reports")
    p.add_argument("key", type=Path, help="private key file to create (PEM); the public key goes to NAME.pub.pem")
    p.add_argument(
        "--type",
        choices=("ec", "rsa", "ed25519"),
        default="ec",
        help="key type: ec = P-256/ES256 (default), rsa = 3072-bit/PS256, ed25519 = EdDSA",
    )
    _password_option(p, "encrypt the private key with the password in this environment variable")
    p.set_defaults(func=_keygen)

    p = sub.add_parser("sign", help="sign a report directory (JWS over manifest.json -> manifest.jws)")
    p.add_argument("directory", type=Path, help="report directory, e.g. reports/<run-id>")
    p.add_argument("--key", type=Path, required=True, help="private key (PEM or JWK JSON)")
    _password_option(p, "password of an encrypted key, read from this environment variable")
    p.set_defaults(func=_sign)

    p = sub.add_parser("verify", help="check a report directory: signature and every file's sha256")
    p.add_argument("directory", type=Path, help="report directory, e.g. reports/<run-id>")
    p.add_argument("--key", type=Path, help="signer's public key; without it only integrity is checked")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.set_defaults(func=_verify)

    p = sub.add_parser("diff", help="list requirements whose verdict changed between two reports")
    p.add_argument("old", type=Path, help="old report directory or report.json (e.g. the main branch's)")
    p.add_argument("new", type=Path, help="new report directory or report.json")
    p.add_argument(
        "--fail-on",
        choices=("regression", "change", "none"),
        default="regression",
        help="exit 1 on a regression (pass/attested -> fail/error; the default) or on any change, among gated "
             "levels; none: only list (a regression is still reported, never as OK)",
    )
    p.add_argument(
        "--policy",
        choices=("shall", "should", "all"),
        default="shall",
        help="levels that gate: shall (default) = SHALL only, should = SHALL+SHOULD, all = every level",
    )
    p.add_argument("--format", choices=("text", "markdown", "json"), default="text")
    p.set_defaults(func=_diff)

    p = sub.add_parser("summary", help="print a report's Markdown summary (for a pull-request comment)")
    p.add_argument("report", type=Path, help="report directory or report.json")
    p.set_defaults(func=_summary)

    p = sub.add_parser("render", help="write all artefacts again from a report.json (optionally adding attestations)")
    p.add_argument("source", type=Path, help="report directory or report.json")
    p.add_argument("output", type=Path, help="directory to write (must be new or empty; see --force)")
    p.add_argument("--attestations", type=Path, help="attestations YAML applied to not-tested requirements")
    p.add_argument("--force", action="store_true",
                   help="replace the report already in OUTPUT (a signed one is never replaced)")
    p.add_argument("--formats", default=None, help="comma-separated formats (default: all)")
    p.set_defaults(func=_render)


def _help(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return EXIT_USAGE


def _password_option(p: argparse.ArgumentParser, text: str) -> None:
    p.add_argument("--password-env", metavar="VAR", help=text + " (never on the command line)")


def _password(args: argparse.Namespace) -> bytes | None:
    if not args.password_env:
        return None
    value = os.environ.get(args.password_env)
    if value is None:
        raise UsageError(f"--password-env {args.password_env}: environment variable is not set")
    return value.encode("utf-8")


def _keygen(args: argparse.Namespace) -> int:
    from conformance.report.signing import write_keypair

    private, public = write_keypair(args.key, args.type, _password(args))
    print(f"private key: {private} (keep it secret; sign with `conformance report sign DIR --key {private}`)")
    print(f"public key:  {public} (give it to whoever verifies: `conformance report verify DIR --key {public}`)")
    return EXIT_OK


def _sign(args: argparse.Namespace) -> int:
    from conformance.report.signing import load_key, sign_directory

    from conformance.report.manifest import SIGNATURE_FILE

    key = load_key(args.key, _password(args))
    previous = (args.directory / SIGNATURE_FILE).is_file()
    out = sign_directory(args.directory, key)
    print(f"signed: {out} (key thumbprint {key.thumbprint()})"
          + ("; it replaces the previous signature of the same manifest" if previous else ""))
    return EXIT_OK


def _verify(args: argparse.Namespace) -> int:
    from conformance.report.signing import load_key, verify_directory

    key = load_key(args.key) if args.key else None
    if key is not None and key.has_private:
        key = type(key)(**key.export_public(as_dict=True))
    result = verify_directory(args.directory, key)
    if args.format == "json":
        json.dump(
            {
                "directory": str(result.directory),
                "ok": result.ok,
                "signed": result.signed,
                "authenticated": result.authenticated,
                "signer": result.signer,
                "files": result.files,
                "problems": result.problems,
            },
            sys.stdout,
            indent=2,
        )
        sys.stdout.write("\n")
        return EXIT_OK if result.ok else EXIT_FAILED
    for problem in result.problems:
        print(f"FAILED {args.directory}/{problem}")
    if not result.ok:
        print(
            f"verify: {args.directory}: {len(result.problems)} problem(s); the report cannot be trusted",
            file=sys.stderr,
        )
        return EXIT_FAILED
    if result.authenticated:
        print(
            f"OK {args.directory}: signature by key {result.signer} verifies; {result.files} files match manifest.json"
        )
    elif result.signed:
        print(
            f"OK {args.directory}: {result.files} files match manifest.json; signature verifies with its embedded key "
            f"{result.signer}, NOT authenticated (pass --key PUBLIC_KEY to check who signed)"
        )
    else:
        print(f"OK {args.directory}: {result.files} files match manifest.json; NOT signed")
    return EXIT_OK


def _diff(args: argparse.Namespace) -> int:
    from conformance.report import load_report
    from conformance.report.diff import diff_reports, gating, render_json, render_markdown, render_text

    old, new = load_report(args.old), load_report(args.new)
    changes = diff_reports(old, new)
    blocking = gating(changes, args.policy, None if args.fail_on == "none" else args.fail_on)
    if args.format == "json":
        sys.stdout.write(render_json(changes, blocking, args.policy))
    elif args.format == "markdown":
        sys.stdout.write(render_markdown(old, new, changes, blocking, args.policy))
    else:
        sys.stdout.write(render_text(old, new, changes, blocking, args.policy))
    return EXIT_FAILED if blocking else EXIT_OK


def _summary(args: argparse.Namespace) -> int:
    from conformance.report import load_report
    from conformance.report.markdown import render_markdown

    sys.stdout.write(render_markdown(load_report(args.report)))
    return EXIT_OK


def _render(args: argparse.Namespace) -> int:
    from conformance.report import FORMATS, load_report, write_documents
    from conformance.report.attestations import load_attestations
    from conformance.report.build import with_attestations

    doc = load_report(args.source)
    if args.attestations:
        doc = with_attestations(doc, load_attestations(args.attestations))
    formats = [f.strip() for f in args.formats.split(",") if f.strip()] if args.formats else list(FORMATS)
    unknown = [f for f in formats if f not in FORMATS]
    if unknown:
        raise UsageError(f"--formats: unknown {', '.join(unknown)}; choose from {', '.join(FORMATS)}")
    paths = write_documents(doc, args.output, formats, force=args.force)
    print(f"wrote {len(paths)} files to {args.output}")
    return EXIT_OK
