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
from conformance.verdicts import applies, is_nonconformance, requirement_results, verdict_from_skip

OUTCOME_KEY = "conformance.outcome"
SUT_KEY = "conformance.sut"
DEFAULT_PROFILE = "ehds-core"
DEFAULT_ADAPTER = "reference"

#: Every option of the plugin starts with this (no clash with other plugins' `--profile`...).
PREFIX = "--conformance-"

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


_state_key = pytest.StashKey[_State]()


def _activate_hypothesis_settings(config: pytest.Config) -> None:
    """Certification runs are derandomized and reproducible; --explore searches wider."""
    try:
        from conformance import settings as conf_settings
    except ImportError:  # pragma: no cover - settings module ships with the package
        return
    activate = getattr(conf_settings, "activate", None)
    if activate is None:
        return
    explore = bool(config.getoption(f"{PREFIX}explore", default=False))
    seed = config.getoption(f"{PREFIX}seed", default=None)
    config.stash[_settings_key] = dict(activate(explore=explore, seed=seed) or {})


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


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
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
    keep, drop = [], []
    for item in items:
        rids = _requirement_ids(item)
        if rids and not (set(rids) & wanted):
            drop.append(item)
        else:
            keep.append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


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

    def valid(self, category: str, patient: Any, *, seed: int = 0) -> dict[str, Any]:
        from conformance.documents import valid_document

        return valid_document(category, patient, seed=seed)


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
    from conformance.checks import not_applicable

    declared = {c.value for c in description.capabilities}
    missing = [c for c in _capabilities_needed(item) if c not in declared]
    if missing:
        not_applicable(f"the SUT does not declare capability {', '.join(missing)}")
    for cat in _categories_needed(item):
        if cat not in description.consumes and description.consumes:
            not_applicable(f"the SUT does not declare that it accepts {cat} documents")
        if cat not in description.produces and description.produces:
            not_applicable(f"the SUT does not declare that it exports {cat} documents")
    profile = state.profile
    if profile is not None:
        reasons = [applies(profile.requirement(r), state.sut) for r in _requirement_ids(item)
                   if r in profile.requirement_ids]
        if reasons and all(reasons):
            not_applicable(str(reasons[0]))
    drain = getattr(sut.wrapped, "drain_exchanges", None)
    if callable(drain):
        drain()  # start each check with an empty exchange log
        item.stash[_drain_key] = drain


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
            verdict = Verdict.FAIL if exc is not None and is_nonconformance(exc) else Verdict.ERROR
            message = _short_message(call)
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


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    config = session.config
    state = config.stash[_state_key]
    if _is_worker(config):
        return
    if not state.active and not state.outcomes:
        return
    profile = state.profile or _active_profile(config)
    not_applicable: dict[str, str] = {}
    for req in profile.requirements:
        reason = applies(req, state.sut) if state.sut else None
        if reason:
            not_applicable[req.id] = reason
    rows = requirement_results(profile, state.outcomes, not_applicable=not_applicable)
    finished = _dt.datetime.now(_dt.timezone.utc)
    run_id = config.getoption(f"{PREFIX}run-id") or (
        state.started.strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(3))
    info = dict(config.stash.get(_settings_key, {}))
    info["patient_namespace"] = _patient_namespace(config)
    workers = getattr(config.option, "numprocesses", None)
    info["workers"] = workers or 0
    result = RunResult(
        run_id=run_id,
        started=state.started.isoformat(timespec="seconds"),
        finished=finished.isoformat(timespec="seconds"),
        harness_version=__version__,
        profile=profile,
        sut=state.sut,
        requirements=rows,
        seed=str(info.get("seed", "")),
        settings=info,
        packages=_fhir_packages(),
    )
    attestations = config.getoption(f"{PREFIX}attestations")
    report_dir = _option(config, f"{PREFIX}report-dir")
    if report_dir:
        target = Path(report_dir) / run_id
        _write_reports(result, target, attestations)
    if attestations:
        from conformance.report.attestations import attest_run

        result = attest_run(result, attestations)  # the exit code and the summary see attested rows
    config.hook.pytest_conformance_finished(config=config, result=result,
                                            report_dir=target if report_dir else None)
    if report_dir:
        _print_summary(config, result, target)


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


def _write_reports(result: RunResult, target: Path, attestations: str | None) -> None:
    from conformance.report import write_reports

    target.mkdir(parents=True, exist_ok=True)
    write_reports(result, target, attestations=Path(attestations) if attestations else None)
    latest = target.parent / "LATEST"
    latest.write_text(result.run_id + "\n", encoding="utf-8")


def _print_summary(config: pytest.Config, result: RunResult, target: Path) -> None:
    tr = config.pluginmanager.get_plugin("terminalreporter")
    write = (lambda s: tr.write_line(s)) if tr else (lambda s: print(s))
    total = result.summary()["total"]
    parts = [f"{k}: {v}" for k, v in total.items() if v]
    write("")
    write(f"conformance: profile {result.profile.id} {result.profile.version}, "
          f"{len(result.requirements)} requirements -> " + ", ".join(parts))
    for row in result.requirements:
        if row.verdict in (Verdict.FAIL, Verdict.ERROR):
            write(f"  {row.verdict.value.upper():5} {row.requirement.id} [{row.requirement.level.value}] "
                  f"{row.requirement.title}")
    write(f"conformance: report written to {target}{os.sep}")
