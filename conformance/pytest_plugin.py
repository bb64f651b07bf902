"""The pytest plugin: requirement markers, SUT fixtures, outcome collection, reports.

pytest is the only runner (`conformance run` wraps `pytest.main`). The plugin is
**opt-in**: installing the package changes no other pytest session. It is loaded by
`conformance run` (``-p conformance.pytest_plugin``), or explicitly by a vendor's
own configuration (``-p conformance.pytest_plugin`` in ``addopts``, or
``pytest_plugins = ["conformance.pytest_plugin"]`` in a conftest). Its options all
carry the ``--conformance-`` prefix. When loaded it
  1. checks marker ids against the known profiles (unknown id: usage error with a suggestion),
  2. deselects checks whose requirements are not in the active profile,
  3. turns checks needing an undeclared capability into `not-applicable`,
  4. classifies each check's outcome (NonConformance/AssertionError = fail,
     anything else raised = error) and ships it as JSON through
     `report.user_properties` (works under pytest-xdist),
  5. on the controller, gives every requirement of the profile exactly one verdict,
     writes the reports and hands the result to the ``pytest_conformance_finished``
     hook (how `conformance run` gets it back: no module globals).
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import secrets
import sys
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

from conformance import __version__
from conformance.adapter import Capability, SutDescription, TestAccounts, create_adapter, load_config
from conformance.evidence import Evidence
from conformance.guard import DEFAULT_TIMEOUT, GuardedAdapter
from conformance.model import CheckOutcome, Profile, RunResult, Verdict
from conformance.suggest import did_you_mean
from conformance.verdicts import (
    applies,
    contradicted_declaration,
    is_nonconformance,
    requirement_results,
    verdict_from_skip,
)

OUTCOME_KEY = "conformance.outcome"
SUT_KEY = "conformance.sut"
DEFAULT_PROFILE = "ehds-core"
DEFAULT_ADAPTER = "reference"

#: Every option of the plugin starts with this (no clash with other plugins' `--profile`...).
PREFIX = "--conformance-"
#: First line of the `--list` output (what pytest printed before it is not part of the listing).
LISTING_MARK = "== requirements and their checks =="

_evidence_key = pytest.StashKey[Evidence]()
_outcome_sent_key = pytest.StashKey[bool]()


# ---- options and configuration --------------------------------------------------------


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    from conformance import pytest_hooks

    pluginmanager.add_hookspecs(pytest_hooks)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("conformance", "EHDS conformance harness (options of conformance.pytest_plugin)")
    group.addoption(f"{PREFIX}profile", default=None,
                    help=f"requirement profile id or YAML path (default {DEFAULT_PROFILE})")
    group.addoption(f"{PREFIX}adapter", default=None,
                    help=f"adapter name or module:factory (default {DEFAULT_ADAPTER})")
    group.addoption(f"{PREFIX}adapter-config", default=None, help="adapter configuration file (TOML)")
    group.addoption(f"{PREFIX}adapter-timeout", type=float, default=DEFAULT_TIMEOUT,
                    help=f"seconds one adapter call may take before the check gets an error verdict "
                         f"(default {DEFAULT_TIMEOUT:g})")
    group.addoption(f"{PREFIX}report-dir", default=None, help="write reports/<run-id>/ under this directory")
    group.addoption(f"{PREFIX}run-id", default=None, help="name of the report folder (default: timestamp + random)")
    group.addoption(f"{PREFIX}seed", default=None,
                    help="hypothesis seed: replaces the derandomized per-check seeds (recorded in the report)")
    group.addoption(f"{PREFIX}explore", action="store_true", default=False,
                    help="search wider with a random seed (hypothesis 'explore' settings)")
    group.addoption(f"{PREFIX}attestations", default=None,
                    help="YAML file of attestations for untestable requirements")
    group.addoption(f"{PREFIX}requirement", action="append", default=[], metavar="ID",
                    help="only the checks of these requirements (repeatable; glob, e.g. 'EHDS-LOG-*'); the others "
                         "are reported 'not run (selection)' and the run is partial")
    group.addoption(f"{PREFIX}category", action="append", default=[], metavar="CATEGORY",
                    help="only requirements of this category (interoperability, logging, security, general) or "
                         "applying to this priority category (repeatable)")
    group.addoption(f"{PREFIX}strict", action="store_true", default=False,
                    help="exit non-zero unless the conclusion is conformant")
    group.addoption(f"{PREFIX}force", action="store_true", default=False,
                    help="replace the report in an existing run folder (never a signed one)")
    group.addoption(f"{PREFIX}list", action="store_true", default=False,
                    help="list the checks of each requirement with their procedure, run nothing")
    group.addoption(f"{PREFIX}patient-namespace", default=None,
                    help="prefix of the patient identifiers the checks create (default: random per run, "
                         "recorded in the report; give the recorded one to reproduce a run exactly)")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "requirement(*ids): the requirement ids this check verifies")
    config.addinivalue_line("markers", "capability(*caps): SUT capabilities this check needs (else not-applicable)")
    config.addinivalue_line("markers", "category(*ids): priority categories the SUT must handle for this check "
                                       "(else not-applicable: a legitimate exclusion)")
    _activate_hypothesis_settings(config)
    config.stash[_state_key] = _State()
    config.pluginmanager.register(_OutcomeCollector(config), "conformance-outcomes")


class _State:
    """Per-session state of the plugin (controller and workers alike)."""

    def __init__(self) -> None:
        self.active = False
        self.profile: Profile | None = None
        self.outcomes: list[CheckOutcome] = []
        self.sut: dict[str, Any] = {}
        self.started = _dt.datetime.now(_dt.timezone.utc)
        self.settings: dict[str, Any] = {}
        self.scope: Any = None  # conformance.scope.Scope, once the SUT has described itself
        self.checked: dict[str, list[dict[str, str]]] = {}  # requirement id -> its checks (before -k)
        self.packages: list[dict[str, Any]] = []  # FHIR packages loaded by xdist workers


_state_key = pytest.StashKey[_State]()


def _activate_hypothesis_settings(config: pytest.Config) -> None:
    """Certification runs are derandomized and reproducible; --explore searches wider. The previous
    hypothesis state is kept and given back in pytest_unconfigure (no leak into a host session)."""
    from conformance import settings as conf_settings

    config.stash[_saved_settings_key] = conf_settings.save_state()
    explore = bool(config.getoption(f"{PREFIX}explore", default=False))
    seed = config.getoption(f"{PREFIX}seed", default=None)
    config.stash[_settings_key] = dict(conf_settings.activate(explore=explore, seed=seed) or {})


def pytest_unconfigure(config: pytest.Config) -> None:
    saved = config.stash.get(_saved_settings_key, None)
    if saved is not None:
        from conformance import settings as conf_settings

        conf_settings.restore_state(saved)


_saved_settings_key = pytest.StashKey[tuple]()
_settings_key = pytest.StashKey[dict]()


def _option(config: pytest.Config, name: str, default: Any = None) -> Any:
    value = config.getoption(name, default=None)
    return default if value is None else value


def _active_profile(config: pytest.Config) -> Profile:
    from conformance.profiles import load_profile

    return load_profile(_option(config, f"{PREFIX}profile", DEFAULT_PROFILE))


# ---- collection ------------------------------------------------------------------------


def _requirement_ids(item: pytest.Item) -> list[str]:
    ids: list[str] = []
    for mark in item.iter_markers("requirement"):
        ids.extend(str(a) for a in mark.args)
    return ids


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    """Runs before pytest's own -k/-m deselection, so it sees every check of the profile: that is how a
    requirement left out by a selection is told apart from one that has no check."""
    marked = [i for i in items if _requirement_ids(i)]
    if not marked:
        return
    from conformance.profiles import all_requirements

    state = config.stash[_state_key]
    state.profile = _active_profile(config)
    known = {**all_requirements(), **{r.id: r for r in state.profile.requirements}}
    problems: list[str] = []
    for item in marked:
        for rid in _requirement_ids(item):
            if rid not in known:
                close = did_you_mean(rid, known)
                hint = f"; did you mean {close!r}?" if close else ""
                problems.append(f"{item.nodeid}: unknown requirement id {rid!r}{hint}")
    if problems:
        raise pytest.UsageError("requirement markers name unknown ids:\n  " + "\n  ".join(problems))
    state.active = True
    wanted = state.profile.requirement_ids
    selected = _selected_requirements(config, state.profile)
    keep, drop = [], []
    for item in items:
        rids = _requirement_ids(item)
        if rids and not (set(rids) & wanted):
            drop.append(item)
            continue
        for rid in set(rids) & wanted:
            state.checked.setdefault(rid, []).append(_check_entry(item))
        if rids and selected is not None and not (set(rids) & selected):
            drop.append(item)
        else:
            keep.append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


def _selected_requirements(config: pytest.Config, profile: Profile) -> frozenset[str] | None:
    """The requirement ids `--conformance-requirement`/`--conformance-category` keep (None: no such selection)."""
    import fnmatch

    patterns = [p for p in config.getoption(f"{PREFIX}requirement", default=[]) or []]
    categories = [c for c in config.getoption(f"{PREFIX}category", default=[]) or []]
    if not patterns and not categories:
        return None
    out = set()
    for req in profile.requirements:
        if patterns and not any(fnmatch.fnmatchcase(req.id, p.upper()) for p in patterns):
            continue
        if categories and not any(c == req.category.value or c in req.applies_to for c in categories):
            continue
        out.add(req.id)
    if not out:
        raise pytest.UsageError(f"the selection {patterns + categories} matches no requirement of profile "
                                f"{profile.id}; see `conformance profiles show {profile.id}`")
    return frozenset(out)


def _check_entry(item: pytest.Item) -> dict[str, str]:
    """A check as listed under its requirement: node id, name and its procedure (the docstring)."""
    return {"nodeid": item.nodeid, "name": item.name, "description": _description(item)}


def _description(item: pytest.Item) -> str:
    import inspect

    doc = inspect.getdoc(getattr(item, "obj", None)) or ""
    return doc if doc and getattr(item, "obj", None) is not None and doc != inspect.getdoc(type(item.obj)) else ""


def _selection(config: pytest.Config) -> dict[str, Any]:
    """What narrowed this run (empty for a full run): the conclusion is `partial` when anything did."""
    out: dict[str, Any] = {}
    if getattr(config.option, "keyword", ""):
        out["keyword"] = config.option.keyword
    if getattr(config.option, "markexpr", ""):
        out["markers"] = config.option.markexpr
    if getattr(config.option, "collectonly", False):
        out["collect_only"] = True
    if config.getoption(f"{PREFIX}requirement", default=[]):
        out["requirements"] = list(config.getoption(f"{PREFIX}requirement"))
    if config.getoption(f"{PREFIX}category", default=[]):
        out["categories"] = list(config.getoption(f"{PREFIX}category"))
    if getattr(config.option, "lf", False) or getattr(config.option, "exitfirst", False):
        out["stopped_early_or_last_failed"] = True
    return out


# ---- fixtures --------------------------------------------------------------------------


@pytest.fixture(scope="session")
def sut(request: pytest.FixtureRequest) -> Iterator[GuardedAdapter]:
    """The system under test, behind the guard (time limits, crash containment)."""
    config = request.config
    name = _option(config, f"{PREFIX}adapter", DEFAULT_ADAPTER)
    config_path = _option(config, f"{PREFIX}adapter-config")
    if config_path:
        # adapters resolve relative paths in their config file against its folder
        os.environ["CONFORMANCE_ADAPTER_CONFIG"] = str(Path(config_path).resolve())
    adapter = create_adapter(name, load_config(config_path))
    guarded = GuardedAdapter(adapter, timeout=float(config.getoption(f"{PREFIX}adapter-timeout")))
    try:
        yield guarded
    finally:
        close = getattr(adapter, "close", None)
        if callable(close):
            close()


@pytest.fixture(scope="session")
def sut_description(sut: GuardedAdapter) -> SutDescription:
    return sut.describe()


@pytest.fixture(scope="session")
def accounts(sut: GuardedAdapter) -> TestAccounts:
    return sut.test_accounts()


def _patient_namespace(config: pytest.Config) -> str:
    """One namespace per run, shared by xdist workers (the controller picks it)."""
    given = config.getoption(f"{PREFIX}patient-namespace", default=None)
    if given:
        return str(given)
    worker = getattr(config, "workerinput", None)
    if worker and worker.get("conformance_patient_namespace"):
        return str(worker["conformance_patient_namespace"])
    cached = getattr(config, "_conformance_patient_namespace", None)
    if not cached:
        cached = "R" + secrets.token_hex(4)
        config._conformance_patient_namespace = cached  # type: ignore[attr-defined]
    return cached


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """xdist: hand the controller's patient namespace to each worker."""
    node.workerinput["conformance_patient_namespace"] = _patient_namespace(node.config)


@pytest.fixture
def new_patient(request: pytest.FixtureRequest) -> Callable[..., Any]:
    """Factory of fresh, unique patient identities (one SUT may serve many checks at once).

    Identities are a pure function of (run namespace, check id, counter): a run repeated
    with the same --patient-namespace makes the same patients, two runs against one
    shared server never collide."""
    import hashlib
    import itertools

    from conformance.documents import new_patient_identity

    base = _patient_namespace(request.config)
    check = hashlib.sha256(request.node.nodeid.encode()).hexdigest()[:8]
    namespace = f"{base}-{check}"
    counter = itertools.count(1)

    def make(**overrides: Any) -> Any:
        return new_patient_identity(next(counter), namespace=namespace, **overrides)

    return make


class _Documents:
    """Valid documents for a patient, per priority category (deterministic per seed)."""

    def valid(self, category: str, patient: Any, *, seed: int = 0, variation: str | None = None) -> dict[str, Any]:
        from conformance.documents import valid_document

        return valid_document(category, patient, seed=seed, variation=variation)


@pytest.fixture(scope="session")
def documents() -> _Documents:
    return _Documents()


@pytest.fixture
def evidence(request: pytest.FixtureRequest) -> Evidence:
    return request.node.stash.setdefault(_evidence_key, Evidence())


@pytest.fixture(scope="session")
def fhir_validator() -> Any:
    from conformance.fhir import default_validator

    return default_validator()


# ---- running ---------------------------------------------------------------------------


def _capabilities_needed(item: pytest.Item) -> list[str]:
    caps: list[str] = []
    for mark in item.iter_markers("capability"):
        caps.extend(c.value if isinstance(c, Capability) else str(c) for c in mark.args)
    return caps


def _scope(state: "_State", description: SutDescription) -> Any:
    """The profile's scope rules applied to this SUT (built once per session)."""
    if state.scope is None:
        from conformance.scope import Scope

        profile_scope = state.profile.scope if state.profile is not None else {}
        state.scope = Scope.of(profile_scope, description.to_json())
    return state.scope


def _categories_needed(item: pytest.Item) -> list[str]:
    return [str(c) for mark in item.iter_markers("category") for c in mark.args]


_drain_key = pytest.StashKey[Callable[[], list[dict[str, Any]]]]()


@pytest.fixture(autouse=True)
def _conformance_check(request: pytest.FixtureRequest) -> None:
    """Before each check: applicability, a fresh guard, an empty HTTP exchange log.

    Inert for tests without a `requirement` marker (the plugin is loaded everywhere)."""
    item = request.node
    if not _requirement_ids(item):
        return
    state = item.config.stash[_state_key]
    sut: GuardedAdapter = request.getfixturevalue("sut")
    sut.reset_trip()
    description: SutDescription = request.getfixturevalue("sut_description")
    if not state.sut:
        state.sut = description.to_json()
    from conformance.checks import SCOPE_FAIL_PREFIX, not_applicable

    scope = _scope(state, description)
    decisions = [scope.capability(c) for c in _capabilities_needed(item) if c not in
                 {x.value for x in description.capabilities}]
    for cat in _categories_needed(item):
        if description.consumes and cat not in description.consumes:
            decisions.append(scope.category(cat, what="accepts"))
        if description.produces and cat not in description.produces:
            decisions.append(scope.category(cat, what="exports"))
    failing = [d for d in decisions if d.verdict == "fail"]
    if failing:
        pytest.skip(SCOPE_FAIL_PREFIX + failing[0].reason)
    if decisions:
        not_applicable(decisions[0].reason)
    profile = state.profile
    if profile is not None:
        reasons = [applies(profile.requirement(r), state.sut) for r in _requirement_ids(item)
                   if r in profile.requirement_ids]
        if reasons and all(reasons):
            decision = scope.category(", ".join(profile.requirement(_requirement_ids(item)[0]).applies_to),
                                      what="handles")
            if decision.verdict == "fail":
                pytest.skip(SCOPE_FAIL_PREFIX + decision.reason)
            not_applicable(str(reasons[0]))
    drain = getattr(sut.wrapped, "drain_exchanges", None)
    if callable(drain):
        drain()  # start each check with an empty exchange log
        item.stash[_drain_key] = drain


def _classify(exc: BaseException | None, call: pytest.CallInfo[Any]) -> tuple[Verdict, str]:
    """The verdict of a check that raised `exc` (see conformance.verdicts for the rules).

    A check's own assertion, or its `pytest.raises` seeing nothing (the SUT accepted what it must
    refuse), is a fail. A contract answer the check did not expect is no verdict on *this*
    requirement: a valid set-up document rejected, or a test account refused, leaves the check
    inconclusive (not-tested), naming the requirement that decides that behaviour. Anything else
    (an adapter crash, a bug in the check) is an error."""
    from conformance.adapter import Denied, NotSupported, Rejected
    from conformance.verdicts import unexpected_answer

    if exc is None:
        return Verdict.ERROR, _short_message(call)
    if is_nonconformance(exc):
        return Verdict.FAIL, _short_message(call)
    if isinstance(exc, (Rejected, Denied, NotSupported)):
        return Verdict.NOT_TESTED, unexpected_answer(exc)
    return Verdict.ERROR, _short_message(call)


def _contradicted_capabilities(item: pytest.Item, exc: BaseException | None) -> list[str]:
    """The capabilities a NotSupported answer contradicts: all those the check needs, when the SUT declares
    every one of them (else the check would not have run, or the answer is about something undeclared)."""
    from conformance.adapter import NotSupported

    if not isinstance(exc, NotSupported):
        return []
    needed = _capabilities_needed(item)
    state = item.config.stash[_state_key]
    declared = set((state.sut or {}).get("capabilities") or ())
    return needed if needed and set(needed) <= declared else []


def _falsifying_example(report: pytest.TestReport) -> str:
    text = report.longreprtext or ""
    lines = [ln for ln in text.splitlines() if ln.startswith(("Falsifying example", "Falsifying explicit example"))]
    if not lines:
        return ""
    start = text.find(lines[0])
    block = text[start:].split("\n\n", 1)[0]
    return block[:4000]


def _short_message(call: pytest.CallInfo[Any]) -> str:
    exc = call.excinfo.value if call.excinfo else None
    if exc is None:
        return ""
    if isinstance(exc, BaseExceptionGroup):
        exc = exc.exceptions[0]
    text = str(exc).strip() or type(exc).__name__
    first = text.split("\nassert ", 1)[0]
    return f"{type(exc).__name__}: {first}"[:2000] if not isinstance(exc, AssertionError) else first[:2000]


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[Any]) -> Iterator[None]:
    report: pytest.TestReport = yield
    rids = _requirement_ids(item)
    if not rids or item.stash.get(_outcome_sent_key, False):
        return report
    verdict: Verdict | None = None
    message = ""
    if report.when == "setup" and report.skipped:
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        verdict, message = verdict_from_skip(reason)
    elif report.when in ("setup", "teardown") and report.failed:
        verdict, message = Verdict.ERROR, f"{report.when} failed: {_short_message(call)}"
    elif report.when == "call":
        if report.passed:
            verdict = Verdict.PASS
        elif report.skipped:
            reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
            verdict, message = verdict_from_skip(reason)
        else:
            exc = call.excinfo.value if call.excinfo else None
            verdict, message = _classify(exc, call)
            contradicted = _contradicted_capabilities(item, exc)
            if verdict is Verdict.NOT_TESTED and contradicted:
                verdict, message = Verdict.ERROR, contradicted_declaration(exc, contradicted)
    if verdict is None:
        return report
    recorded = item.stash.get(_evidence_key, Evidence())
    items = list(recorded.items)
    drain = item.stash.get(_drain_key, None)
    if drain:
        items.extend({"kind": "http", **x} for x in drain())
    if verdict in (Verdict.FAIL, Verdict.ERROR):
        example = _falsifying_example(report)
        if example:
            items.append({"kind": "falsifying-example", "repr": example})
        if verdict is Verdict.ERROR and call.excinfo is not None:
            items.append({"kind": "adapter-error", "type": type(call.excinfo.value).__name__,
                          "message": str(call.excinfo.value)[:2000]})
    outcome = CheckOutcome(
        nodeid=item.nodeid,
        name=item.name,
        requirement_ids=rids,
        verdict=verdict,
        duration=report.duration,
        message=message,
        evidence=items,
        description=_description(item),
    )
    payload = json.dumps(outcome.to_json(), default=str)
    report.user_properties.append((OUTCOME_KEY, payload))
    state = item.config.stash[_state_key]
    if state.sut:
        report.user_properties.append((SUT_KEY, json.dumps(state.sut)))
    item.stash[_outcome_sent_key] = True
    return report


class _OutcomeCollector:
    """Receives every test report (on the xdist controller: the workers' reports) and keeps
    the check outcomes they carry. Registered per session, so it holds its own config."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        state = self.config.stash[_state_key]
        for key, value in report.user_properties:
            if key == OUTCOME_KEY:
                state.outcomes.append(CheckOutcome.from_json(json.loads(value)))
            elif key == SUT_KEY and not state.sut:
                state.sut = json.loads(value)


# ---- the end of the run -----------------------------------------------------------------


def _is_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    """xdist controller: merge what each worker collected and loaded (checks per requirement, FHIR packages)."""
    state = node.config.stash[_state_key]
    output = getattr(node, "workeroutput", {}) or {}
    for rid, checks in json.loads(output.get("conformance_checked", "{}")).items():
        known = {c["nodeid"] for c in state.checked.get(rid, [])}
        state.checked.setdefault(rid, []).extend(c for c in checks if c["nodeid"] not in known)
    for package in json.loads(output.get("conformance_packages", "[]")):
        if package not in state.packages:
            state.packages.append(package)
    if output.get("conformance_active"):
        state.active = True


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    config = session.config
    state = config.stash[_state_key]
    if _is_worker(config):
        config.workeroutput["conformance_checked"] = json.dumps(state.checked)  # type: ignore[attr-defined]
        config.workeroutput["conformance_packages"] = json.dumps(_fhir_packages(), default=str)  # type: ignore
        config.workeroutput["conformance_active"] = state.active  # type: ignore[attr-defined]
        return
    if not state.active and not state.outcomes:
        return
    profile = state.profile or _active_profile(config)
    if config.getoption(f"{PREFIX}list", default=False):
        _print_listing(config, profile, state.checked)
        return
    result = _run_result(config, state, profile)
    attestations = config.getoption(f"{PREFIX}attestations")
    report_dir = _option(config, f"{PREFIX}report-dir")
    target = Path(report_dir) / result.run_id if report_dir else None
    from conformance.errors import UsageError

    if target is not None:
        try:
            _write_reports(result, target, attestations, force=bool(config.getoption(f"{PREFIX}force")))
        except UsageError as exc:  # a refused attestation, an existing folder: the user's to fix (exit 2)
            result.settings["report_usage_error"] = " ".join(str(exc).split())[:800]
        except Exception as exc:  # noqa: BLE001 - reported as a harness error with the verdicts still shown
            result.settings["report_error"] = f"{type(exc).__name__}: {' '.join(str(exc).split())[:500]}"
    if attestations and not result.settings.get("report_usage_error"):
        from conformance.report.attestations import attest_run

        try:
            result = attest_run(result, attestations)  # the exit code and the summary see attested rows
        except UsageError as exc:
            result.settings["report_usage_error"] = " ".join(str(exc).split())[:800]
    config.hook.pytest_conformance_finished(config=config, result=result, report_dir=target)


def _run_result(config: pytest.Config, state: _State, profile: Profile) -> RunResult:
    """Every requirement of the profile with exactly one verdict, and what the report header needs."""
    from conformance.categories import PRIORITY_CATEGORIES
    from conformance.conclusion import NOT_RUN_SELECTION
    from conformance.scope import Scope

    not_applicable: dict[str, str] = {}
    for req in profile.requirements:
        reason = applies(req, state.sut) if state.sut else None
        if reason:
            not_applicable[req.id] = reason
    rows = requirement_results(profile, state.outcomes, not_applicable=not_applicable)
    selection = _selection(config)
    for row in rows:
        if not row.checks and row.requirement.id in state.checked and row.verdict is Verdict.NOT_TESTED:
            row.reason = NOT_RUN_SELECTION
            selection.setdefault("left_out", 0)
            selection["left_out"] += 1
    if selection == {"left_out": selection.get("left_out")} and not selection.get("left_out"):
        selection = {}
    scope = Scope.of(profile.scope, state.sut) if state.sut else None
    scope_json: dict[str, Any] = {}
    if scope is not None:
        for outcome in state.outcomes:
            if outcome.verdict is Verdict.NOT_APPLICABLE:
                for rule in scope.exclusions:
                    if f"excluded by {rule.id}:" in outcome.message:
                        scope.used_exclusions.setdefault(rule.id, set()).add(outcome.message.split(";")[0])
        scope_json = scope.to_json(PRIORITY_CATEGORIES)
    finished = _dt.datetime.now(_dt.timezone.utc)
    run_id = config.getoption(f"{PREFIX}run-id") or (
        state.started.strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(3))
    info = dict(config.stash.get(_settings_key, {}))
    info["patient_namespace"] = _patient_namespace(config)
    workers = getattr(config.option, "numprocesses", None)
    info["workers"] = workers or 0
    packages = list(state.packages)
    for package in _fhir_packages():
        if package not in packages:
            packages.append(package)
    return RunResult(
        run_id=run_id,
        started=state.started.isoformat(timespec="seconds"),
        finished=finished.isoformat(timespec="seconds"),
        harness_version=__version__,
        profile=profile,
        sut=state.sut,
        requirements=rows,
        seed=str(info.get("seed", "")),
        settings=info,
        packages=packages,
        selection=selection,
        scope=scope_json,
        strict=bool(config.getoption(f"{PREFIX}strict", default=False)),
    )


def _print_listing(config: pytest.Config, profile: Profile, checked: dict[str, list[dict[str, str]]]) -> None:
    """`conformance run --list`: each requirement with its checks and their procedures."""
    import textwrap

    tr = config.pluginmanager.get_plugin("terminalreporter")
    write = (lambda s: tr.write_line(s)) if tr else print
    selected = _selected_requirements(config, profile)
    write(LISTING_MARK)
    for req in profile.requirements:
        if selected is not None and req.id not in selected:
            continue
        checks = checked.get(req.id, [])
        write(f"{req.id} [{req.level.value}] {req.title}: "
              + (f"{len(checks)} check(s)" if checks else "no automated check"))
        for check in checks:
            write(f"  - {check['nodeid']}")
            for line in textwrap.wrap(check.get("description") or "(no procedure written)", 100):
                write(f"      {line}")


def _fhir_packages() -> list[dict[str, Any]]:
    """The FHIR packages the validator loaded in this process (none if no check validated)."""
    module = sys.modules.get("conformance.fhir")
    if module is None:
        return []
    try:
        out: list[dict[str, Any]] = []
        for package in module.default_validator().packages:
            if isinstance(package, dict):
                out.append(dict(package))
            elif hasattr(package, "to_json"):
                out.append(package.to_json())
            else:
                out.append({"name": str(package)})
        return out
    except Exception:  # noqa: BLE001 - the report still gets written
        return []


def _write_reports(result: RunResult, target: Path, attestations: str | None, *, force: bool = False) -> None:
    from conformance.report import write_reports

    target.mkdir(parents=True, exist_ok=True)
    write_reports(result, target, attestations=Path(attestations) if attestations else None, force=force)
    latest = target.parent / "LATEST"
    latest.write_text(result.run_id + "\n", encoding="utf-8")
