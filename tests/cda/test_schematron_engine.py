"""The Schematron compiler and runner on small hand-written schemas: each ISO feature it claims
to support, the eHDSI quirks (patterns inside phases, repeated patterns), error handling, the
on-disk cache, and that rules cannot reach outside the document."""

from __future__ import annotations

import json

import pytest

from conformance.cda import parse_untrusted, run_schematron, validate_document
from conformance.cda import schematron as sch_mod
from conformance.cda.schematron import compile_schematron, load_or_compile
from conformance.errors import HarnessError, UsageError

ISO = 'xmlns="http://purl.oclc.org/dsdl/schematron"'
DOC = b"""<ClinicalDocument xmlns="urn:hl7-org:v3">
  <id root="1.2.3" extension="A"/>
  <code code="60591-5" codeSystem="2.16.840.1.113883.6.1"/>
  <component><section><code code="x1"/></section><section><code code="x2"/></section></component>
</ClinicalDocument>"""


def _schema(body: str, *, binding: str = "xslt2", head: str = "") -> str:
    return (f'<schema {ISO} queryBinding="{binding}">{head}<ns prefix="cda" uri="urn:hl7-org:v3"/>'
            f"{body}</schema>")


def _run(tmp_path, body: str, doc: bytes = DOC, name: str = "t.sch", **kw) -> list:
    path = tmp_path / name
    path.write_text(_schema(body, **{k: v for k, v in kw.items() if k in ("binding", "head")}))
    opts = {k: v for k, v in kw.items() if k in ("phase", "include_success")}
    return run_schematron(parse_untrusted(doc), str(path), **opts)


def test_assert_and_report_with_message_parts_and_location(tmp_path):
    issues = _run(tmp_path, """
      <pattern id="p1">
        <rule context="cda:section">
          <assert test="cda:code/@code = 'x1'">Error: section code is <value-of select="cda:code/@code"/> in <name/></assert>
          <report test="cda:code/@code = 'x1'" role="warning">first section seen</report>
        </rule>
      </pattern>""")
    by_rule = {(i.rule, i.location): i for i in issues}
    failed = by_rule[("p1/rule[1]/assert[1]", "/ClinicalDocument/component[1]/section[2]")]
    assert failed.severity == "error" and failed.code == "invariant"
    assert "section code is x2 in section" in failed.message and failed.message.startswith("line 4: ")
    reported = by_rule[("p1/rule[1]/report[1]", "/ClinicalDocument/component[1]/section[1]")]
    assert reported.severity == "warning"
    assert len(issues) == 2


def test_first_matching_rule_of_a_pattern_wins(tmp_path):
    issues = _run(tmp_path, """
      <pattern id="p">
        <rule context="cda:section[cda:code/@code='x1']"><assert test="false()">specific</assert></rule>
        <rule context="cda:section"><assert test="false()">general</assert></rule>
      </pattern>""")
    assert sorted((i.location, i.message.split(": ", 1)[1].split(" (")[0]) for i in issues) == [
        ("/ClinicalDocument/component[1]/section[1]", "specific"),
        ("/ClinicalDocument/component[1]/section[2]", "general"),
    ]


def test_patterns_in_phases_take_the_phase_severity_and_can_be_selected(tmp_path):
    body = """
      <phase id="errors"><pattern id="e"><rule context="/cda:ClinicalDocument">
        <assert test="false()">must</assert></rule></pattern></phase>
      <phase id="warnings"><pattern id="w"><rule context="/cda:ClinicalDocument">
        <assert test="false()">should</assert></rule></pattern></phase>"""
    all_issues = _run(tmp_path, body)
    assert sorted((i.rule, i.severity) for i in all_issues) == [
        ("e/rule[1]/assert[1]", "error"), ("w/rule[1]/assert[1]", "warning")]
    only = _run(tmp_path, body, name="phase.sch", phase="warnings")
    assert [i.rule for i in only] == ["w/rule[1]/assert[1]"]
    with pytest.raises(UsageError, match="no phase 'nope'"):
        _run(tmp_path, body, name="phase2.sch", phase="nope")


def test_iso_phase_with_active_patterns(tmp_path):
    body = """
      <phase id="only-b"><active pattern="b"/></phase>
      <pattern id="a"><rule context="/"><assert test="false()">a</assert></rule></pattern>
      <pattern id="b"><rule context="/"><assert test="false()">b</assert></rule></pattern>"""
    assert [i.rule for i in _run(tmp_path, body, phase="only-b")] == ["b/rule[1]/assert[1]"]
    assert len(_run(tmp_path, body, name="all.sch")) == 2


def test_let_at_schema_pattern_and_rule_level(tmp_path):
    issues = _run(tmp_path, """
      <let name="loinc" value="'2.16.840.1.113883.6.1'"/>
      <pattern id="p">
        <let name="sections" value="count(//cda:section)"/>
        <rule context="/cda:ClinicalDocument">
          <let name="cs" value="cda:code/@codeSystem"/>
          <assert test="$cs != $loinc">loinc <value-of select="$loinc"/></assert>
          <assert test="$sections = 3">sections <value-of select="$sections"/></assert>
        </rule>
      </pattern>""")
    texts = sorted(i.message.split(": ", 1)[1].split(" (Schematron")[0] for i in issues)
    assert texts == ["loinc 2.16.840.1.113883.6.1", "sections 2"]


def test_abstract_pattern_and_abstract_rule(tmp_path):
    issues = _run(tmp_path, """
      <pattern abstract="true" id="has-code"><rule context="$el"><assert test="$test">missing in $el</assert></rule></pattern>
      <pattern is-a="has-code" id="doc-code"><param name="el" value="/cda:ClinicalDocument"/>
        <param name="test" value="cda:code[@code='nope']"/></pattern>
      <pattern id="ext">
        <rule abstract="true" id="needs-id"><assert test="cda:id">no id</assert></rule>
        <rule context="cda:section"><extends rule="needs-id"/></rule>
      </pattern>""")
    assert sorted(i.rule for i in issues) == [
        "doc-code/rule[1]/assert[1]", "ext/rule[1]/assert[1]", "ext/rule[1]/assert[1]"]


def test_include_of_local_file_and_refusal_of_outside_or_remote(tmp_path):
    (tmp_path / "part.sch").write_text(
        f'<pattern {ISO} id="inc"><rule context="/"><assert test="false()">included</assert></rule></pattern>')
    assert [i.rule for i in _run(tmp_path, '<include href="part.sch"/>')] == ["inc/rule[1]/assert[1]"]
    with pytest.raises(UsageError, match="not a relative local file"):
        _run(tmp_path, '<include href="http://example.org/x.sch"/>', name="remote.sch")
    sub = tmp_path / "sub"
    sub.mkdir()
    (sub / "main.sch").write_text(_schema('<include href="../part.sch"/>'))
    with pytest.raises(UsageError, match="outside"):
        run_schematron(parse_untrusted(DOC), str(sub / "main.sch"))


def test_xpath2_functions_under_xslt2_binding(tmp_path):
    issues = _run(tmp_path, """
      <pattern id="p"><rule context="/cda:ClinicalDocument">
        <assert test="matches(cda:code/@code, '^\\d{5}-\\d$')">loinc format</assert>
        <assert test="every $s in .//cda:section satisfies $s/cda:code/@code = 'x1'">every</assert>
        <assert test="if (cda:id/@extension) then cda:id/@extension = 'B' else true()">if</assert>
      </rule></pattern>""")
    assert sorted(i.rule for i in issues) == ["p/rule[1]/assert[2]", "p/rule[1]/assert[3]"]


def test_attribute_context(tmp_path):
    issues = _run(tmp_path, """
      <pattern id="p"><rule context="cda:code/@code"><assert test="string-length(.) &gt; 2">short</assert></rule>
      </pattern>""")
    assert sorted(i.location for i in issues) == [
        "/ClinicalDocument/component[1]/section[1]/code[1]/@code",
        "/ClinicalDocument/component[1]/section[2]/code[1]/@code"]


def test_subject_and_diagnostics(tmp_path):
    issues = _run(tmp_path, """
      <pattern id="p"><rule context="/cda:ClinicalDocument">
        <assert test="false()" subject="cda:id" diagnostics="d1">bad id</assert></rule></pattern>
      <diagnostics><diagnostic id="d1">extension was <value-of select="cda:id/@extension"/></diagnostic></diagnostics>""")
    assert len(issues) == 1
    assert issues[0].location == "/ClinicalDocument/id[1]"
    assert "bad id — extension was A" in issues[0].message


def test_dynamic_xpath_error_becomes_a_processing_finding(tmp_path):
    issues = _run(tmp_path, """
      <pattern id="p"><rule context="/cda:ClinicalDocument">
        <assert test="xs:integer(cda:id/@extension) = 1">number</assert>
        <assert test="false()">still evaluated</assert></rule></pattern>""",
                  head='<ns prefix="xs" uri="http://www.w3.org/2001/XMLSchema"/>')
    assert sorted((i.rule, i.code) for i in issues) == [
        ("p/rule[1]/assert[1]", "processing"), ("p/rule[1]/assert[2]", "invariant")]
    assert all(i.is_error for i in issues)


def test_static_xpath_error_is_a_harness_error(tmp_path):
    with pytest.raises(HarnessError, match="Saxon could not compile"):
        _run(tmp_path, '<pattern id="p"><rule context="/"><assert test="no-such-function(.)">x</assert></rule></pattern>')


def test_rules_cannot_read_files(tmp_path):
    secret = tmp_path / "secret.xml"
    secret.write_text("<s>S3CRET-MARKER-2b</s>")
    try:
        issues = _run(tmp_path, f"""
          <pattern id="p"><rule context="/">
            <assert test="false()"><value-of select="doc('{secret.as_uri()}')"/></assert>
            <assert test="false()"><value-of select="unparsed-text('{secret.as_uri()}')"/></assert>
          </rule></pattern>""")
    except HarnessError as exc:  # Saxon refused the access: also fine
        assert "S3CRET" not in str(exc)
        return
    assert "S3CRET" not in repr(issues)


def test_identical_repeated_patterns_run_once_and_distinct_ones_keep_unique_ids(tmp_path):
    rule = '<rule context="/cda:ClinicalDocument"><assert test="false()">{}</assert></rule>'
    path = tmp_path / "dup.sch"
    path.write_text(_schema(
        f'<phase id="errors"><pattern id="a">{rule.format("x")}</pattern><pattern id="a">{rule.format("x")}</pattern>'
        f'<pattern id="a">{rule.format("y")}</pattern></phase>'))
    compiled = compile_schematron(path)
    assert compiled.duplicate_patterns_dropped == 1
    assert [a.rule_id for a in compiled.asserts] == ["a/rule[1]/assert[1]", "a#2/rule[1]/assert[1]"]


def test_success_reports_are_dropped_unless_asked_for(tmp_path):
    body = '<pattern id="p"><rule context="/"><report test="true()">Success: all good</report></rule></pattern>'
    assert _run(tmp_path, body) == []
    kept = _run(tmp_path, body, name="s2.sch", include_success=True)
    assert [(i.severity, i.code) for i in kept] == [("information", "informational")]


def test_compiled_form_is_cached_on_disk_and_invalidated_by_content(tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    path = tmp_path / "c.sch"
    path.write_text(_schema('<pattern id="p"><rule context="/"><assert test="false()">x</assert></rule></pattern>'))
    first = load_or_compile(path, cache=cache)
    files = list(cache.glob("*.json"))
    assert len(files) == 1 and json.loads(files[0].read_text())["compiler_version"] == sch_mod.COMPILER_VERSION

    monkeypatch.setattr(sch_mod, "compile_schematron", lambda *a, **k: pytest.fail("recompiled despite cache"))
    again = load_or_compile(path, cache=cache)
    assert again.xslt == first.xslt and again.asserts == first.asserts

    monkeypatch.undo()
    path.write_text(_schema('<pattern id="q"><rule context="/"><assert test="false()">y</assert></rule></pattern>'))
    changed = load_or_compile(path, cache=cache)
    assert [a.rule_id for a in changed.asserts] == ["q/rule[1]/assert[1]"]
    assert len(list(cache.glob("*.json"))) == 2


def test_not_a_schematron_and_unsupported_binding(tmp_path):
    bad = tmp_path / "bad.sch"
    bad.write_text("<notschema/>")
    with pytest.raises(UsageError, match="not a Schematron"):
        compile_schematron(bad)
    bad.write_text(f'<schema {ISO} queryBinding="python"/>')
    with pytest.raises(UsageError, match="queryBinding"):
        compile_schematron(bad)


def test_unknown_names_are_usage_errors_with_a_suggestion():
    with pytest.raises(UsageError, match="Did you mean 'ehdsi-ps'"):
        validate_document(DOC, schematron="ehdsi-pss")
    with pytest.raises(UsageError, match="Did you mean 'epsos'"):
        validate_document(DOC, schema="epsso")


def test_cached_form_points_at_this_copy_not_where_it_was_first_compiled(tmp_path):
    """The cache is keyed by content and shared between checkouts and virtualenvs: an entry compiled
    from a folder that has since been deleted must not send the waiver lookup (waivers.json beside
    the .sch) to that folder, or every waived upstream defect comes back as an error."""
    import shutil

    cache = tmp_path / "cache"
    body = _schema('<pattern id="p"><rule context="/"><assert test="false()">x</assert></rule></pattern>')
    first, second = tmp_path / "first", tmp_path / "second"
    for folder in (first, second):
        folder.mkdir()
        (folder / "c.sch").write_text(body)
    load_or_compile(first / "c.sch", cache=cache)
    shutil.rmtree(first)
    reused = load_or_compile(second / "c.sch", cache=cache)
    assert len(list(cache.glob("*.json"))) == 1, "same content: the cache entry is reused"
    assert reused.source == str((second / "c.sch").resolve())
