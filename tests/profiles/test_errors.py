"""Malformed profiles fail with file, line, field and a fix hint; extends and ids are checked."""

from __future__ import annotations

from pathlib import Path

import pytest

from conformance.errors import ProfileError, UsageError
from conformance.profiles import all_requirements, available_profiles, load_profile

from .helpers import assert_located, line_of, profile_error, profile_text, write


def test_valid_test_profile_loads(tmp_path: Path) -> None:
    """The builder itself makes valid profiles, so every failure below is caused by the one change."""
    path = write(tmp_path, "mine", profile_text("mine", reqs=["MINE-001", "MINE-002"]))
    profile = load_profile(path)
    assert [r.id for r in profile.requirements] == ["MINE-001", "MINE-002"]


def test_bad_yaml_names_file_and_line(tmp_path: Path) -> None:
    text = profile_text("bad").replace("    category: general\n", "    category: [general\n", 1)
    path = write(tmp_path, "bad", text)
    err = profile_error(path)
    assert "invalid YAML" in str(err)
    # the flow sequence never closes: the parser stops at the next key after the unclosed '['
    assert err.line == line_of(text, "applies_to:")
    assert str(err).startswith(f"{path.resolve()}:{err.line}: ")
    assert err.hint


def test_bad_yaml_tab_indentation(tmp_path: Path) -> None:
    text = profile_text("tabs").replace("    level: SHALL", "\tlevel: SHALL")
    path = write(tmp_path, "tabs", text)
    err = profile_error(path)
    assert "invalid YAML" in str(err) and "tab" in str(err).lower()
    assert err.line == line_of(text, "\tlevel")


def test_unknown_requirement_key_did_you_mean_and_line(tmp_path: Path) -> None:
    text = profile_text("typo", reqs=["TYPO-001", "TYPO-002"])
    text = text.replace("    statement:", "    statment:", 2).replace("    statment:", "    statement:", 1)
    path = write(tmp_path, "typo", text)
    err = profile_error(path)
    assert_located(err, path, line_of(text, "statment:"), "requirements[1].statment")
    assert "unknown key 'statment' in requirement TYPO-002" in str(err)
    assert err.hint == "did you mean 'statement'?"


def test_unknown_top_level_key_did_you_mean(tmp_path: Path) -> None:
    text = profile_text("top").replace("extends: []", "extend: []")
    path = write(tmp_path, "top", text)
    err = profile_error(path)
    assert_located(err, path, line_of(text, "extend:"), "extend")
    assert "did you mean 'extends'?" in str(err)


def test_unknown_reference_key_did_you_mean(tmp_path: Path) -> None:
    text = profile_text("ref").replace("{source: Test, section: \"1\"}", "{source: Test, sectoin: \"1\"}")
    path = write(tmp_path, "ref", text)
    err = profile_error(path)
    assert_located(err, path, line_of(text, "sectoin"), "requirements[0].references[0].sectoin")
    assert err.hint == "did you mean 'section'?"


def test_unknown_key_without_close_match_lists_allowed_keys(tmp_path: Path) -> None:
    text = profile_text("far").replace("    level: SHALL", "    level: SHALL\n    zzz: 1")
    path = write(tmp_path, "far", text)
    err = profile_error(path)
    assert_located(err, path, line_of(text, "zzz:"), "requirements[0].zzz")
    assert "allowed keys here:" in err.hint and "statement" in err.hint


@pytest.mark.parametrize(("bad", "suggestion"), [("SHAL", "SHALL"), ("shall", "SHALL"), ("SHOUD", "SHOULD"),
                                                 ("MUST", None)])
def test_bad_level(tmp_path: Path, bad: str, suggestion: str | None) -> None:
    text = profile_text("lvl").replace("    level: SHALL", f"    level: {bad}")
    path = write(tmp_path, "lvl", text)
    err = profile_error(path)
    assert_located(err, path, line_of(text, f"level: {bad}"), "requirements[0].level")
    assert f"'{bad}' is not an allowed value in requirement TLVL-001" in str(err)
    assert "allowed values: SHALL, SHOULD, MAY" in err.hint
    if suggestion:
        assert f"did you mean '{suggestion}'?" in err.hint
    else:
        assert "did you mean" not in err.hint


def test_bad_applies_to_value_suggests_category(tmp_path: Path) -> None:
    text = profile_text("cat").replace("applies_to: [all]", "applies_to: [all, labratory]")
    path = write(tmp_path, "cat", text)
    err = profile_error(path)
    assert_located(err, path, line_of(text, "labratory"), "requirements[0].applies_to[1]")
    assert "did you mean 'laboratory'?" in err.hint


def test_missing_field_points_at_the_requirement(tmp_path: Path) -> None:
    text = profile_text("miss", reqs=["MISS-001", "MISS-002"])
    lines = text.splitlines(keepends=True)
    drop = line_of(text, "statement:", nth=2)
    text = "".join(line for i, line in enumerate(lines, start=1) if i != drop)
    path = write(tmp_path, "miss", text)
    err = profile_error(path)
    assert_located(err, path, line_of(text, "- id: MISS-002"), "requirements[1].statement")
    assert "missing required field 'statement' in requirement MISS-002" in str(err)


def test_missing_top_level_field(tmp_path: Path) -> None:
    text = profile_text("notitle").replace("title: Test profile notitle\n", "")
    path = write(tmp_path, "notitle", text)
    err = profile_error(path)
    assert_located(err, path, 1, "title")
    assert "missing required field 'title'" in str(err)


def test_unquoted_version_hint(tmp_path: Path) -> None:
    text = profile_text("ver").replace('version: "1.0.0"', "version: 1.0")
    path = write(tmp_path, "ver", text)
    err = profile_error(path)
    assert_located(err, path, line_of(text, "version:"), "version")
    assert "expected a string, got a number" in str(err)
    assert "quote" in err.hint


def test_bad_requirement_id_format(tmp_path: Path) -> None:
    text = profile_text("rid", reqs=["lower-001"])
    path = write(tmp_path, "rid", text)
    err = profile_error(path)
    assert_located(err, path, line_of(text, "id: lower-001"), "requirements[0].id")
    assert "EHDS-LOG-001" in err.hint


def test_duplicate_yaml_key(tmp_path: Path) -> None:
    text = profile_text("dupkey").replace("    level: SHALL", "    level: SHALL\n    level: MAY")
    path = write(tmp_path, "dupkey", text)
    err = profile_error(path)
    assert_located(err, path, line_of(text, "level: MAY"), "requirements[0].level")
    assert f"lines {line_of(text, 'level: SHALL')} and {line_of(text, 'level: MAY')}" in str(err)


@pytest.mark.parametrize(("text", "what"), [("", "an empty file"), ("- a\n- b\n", "a list")])
def test_profile_must_be_a_mapping(tmp_path: Path, text: str, what: str) -> None:
    path = write(tmp_path, "odd", text)
    err = profile_error(path)
    assert f"got {what}" in str(err)
    assert err.line == 1 and err.path == str(path.resolve())


def test_id_must_match_file_name(tmp_path: Path) -> None:
    text = profile_text("other")
    path = write(tmp_path, "named", text)
    err = profile_error(path)
    assert_located(err, path, line_of(text, "id: other"), "id")
    assert "rename the file to other.yaml" in err.hint


def test_several_problems_report_the_first_and_count_the_rest(tmp_path: Path) -> None:
    text = profile_text("many", reqs=["MANY-001", "MANY-002"]).replace("level: SHALL", "level: X")
    path = write(tmp_path, "many", text)
    err = profile_error(path)
    assert_located(err, path, line_of(text, "level: X"), "requirements[0].level")
    assert "(and 1 more problem in this file)" in str(err)


# ------------------------------------------------------------------ extends


def test_extends_cycle_names_the_cycle(tmp_path: Path) -> None:
    write(tmp_path, "a", profile_text("a", extends=["b"]))
    b_text = profile_text("b", extends=["c"])
    write(tmp_path, "b", b_text)
    c_text = profile_text("c", extends=["a"])
    c = write(tmp_path, "c", c_text)
    err = profile_error(tmp_path / "a.yaml")
    assert "extends cycle: a -> b -> c -> a" in str(err)
    assert_located(err, c, line_of(c_text, "extends:"), "extends[0]")


def test_self_extension_is_a_cycle(tmp_path: Path) -> None:
    text = profile_text("selfish", extends=["selfish"])
    path = write(tmp_path, "selfish", text)
    err = profile_error(path)
    assert "extends cycle: selfish -> selfish" in str(err)
    assert_located(err, path, line_of(text, "extends:"), "extends[0]")


def test_unknown_extends_lists_available_profiles(tmp_path: Path) -> None:
    text = profile_text("child", extends=["ehds-cor"])
    path = write(tmp_path, "child", text)
    err = profile_error(path)
    assert_located(err, path, line_of(text, "extends:"), "extends[0]")
    assert "extends unknown profile 'ehds-cor'" in str(err)
    assert "did you mean 'ehds-core'?" in err.hint
    assert "available profiles:" in err.hint and "fr-sesali" in err.hint and "child" in err.hint


def test_extends_a_shipped_profile_from_a_user_directory(tmp_path: Path) -> None:
    path = write(tmp_path, "vendor-x", profile_text("vendor-x", extends=["ehds-core"], reqs=["VX-001"]))
    profile = load_profile(path)
    assert [r.id for r in profile.requirements][-1] == "VX-001"
    assert len(profile.requirements) == len(load_profile("ehds-core").requirements) + 1
    assert profile.requirement("EHDS-LOG-001").profile == "ehds-core"


def test_duplicate_id_within_one_file_names_both_lines(tmp_path: Path) -> None:
    text = profile_text("twice", reqs=["TW-001", "TW-002", "TW-001"])
    path = write(tmp_path, "twice", text)
    err = profile_error(path)
    first, second = line_of(text, "id: TW-001"), line_of(text, "id: TW-001", nth=2)
    assert_located(err, path, second, "requirements[2].id")
    assert f"TW-001 is declared twice in this file (lines {first} and {second})" in str(err)


def test_child_redefining_a_parent_id_is_an_error_naming_both_places(tmp_path: Path) -> None:
    parent_text = profile_text("parent", reqs=["P-001", "P-002"])
    parent = write(tmp_path, "parent", parent_text)
    child_text = profile_text("kid", extends=["parent"], reqs=["K-001", "P-002"])
    child = write(tmp_path, "kid", child_text)
    err = profile_error(child)
    assert_located(err, child, line_of(child_text, "id: P-002"), "requirements[1].id")
    assert (f"P-002 is already declared in profile 'parent' ({parent.resolve()}:"
            f"{line_of(parent_text, 'id: P-002')})") in str(err)


def test_core_id_redefined_in_user_profile(tmp_path: Path) -> None:
    text = profile_text("sneaky", extends=["ehds-core"], reqs=["EHDS-LOG-001"])
    path = write(tmp_path, "sneaky", text)
    err = profile_error(path)
    assert_located(err, path, line_of(text, "id: EHDS-LOG-001"), "requirements[0].id")
    assert "already declared in profile 'ehds-core'" in str(err) and "ehds-core.yaml:" in str(err)


def test_two_parents_declaring_the_same_id_is_an_error(tmp_path: Path) -> None:
    left_text = profile_text("left", reqs=["SAME-001"])
    write(tmp_path, "left", left_text)
    write(tmp_path, "right", profile_text("right", reqs=["SAME-001"]))
    text = profile_text("both", extends=["left", "right"], reqs=["BOTH-001"])
    path = write(tmp_path, "both", text)
    err = profile_error(path)
    assert_located(err, path, line_of(text, "extends:"), "extends[1]")
    assert "SAME-001 is declared twice among the parents" in str(err)
    assert "profile 'left'" in str(err) and "profile 'right'" in str(err)


def test_diamond_is_not_a_duplicate(tmp_path: Path) -> None:
    write(tmp_path, "base", profile_text("base", reqs=["B-001", "B-002"]))
    write(tmp_path, "mid", profile_text("mid", extends=["base"], reqs=["M-001"]))
    path = write(tmp_path, "top", profile_text("top", extends=["base", "mid"], reqs=["T-001"]))
    profile = load_profile(path)
    assert [r.id for r in profile.requirements] == ["B-001", "B-002", "M-001", "T-001"]


def test_conflicting_package_pins(tmp_path: Path) -> None:
    write(tmp_path, "pin-a", profile_text("pin-a", extra="fhir_packages: [hl7.fhir.uv.ips#2.0.0]\n"))
    text = profile_text("pin-b", extends=["pin-a"], extra="fhir_packages: [hl7.fhir.uv.ips#1.1.0]\n")
    path = write(tmp_path, "pin-b", text)
    err = profile_error(path)
    assert_located(err, path, line_of(text, "fhir_packages:"), "fhir_packages[0]")
    assert "pinned to two versions" in str(err)


# ------------------------------------------------------------------ lookup


def test_unknown_profile_id_suggests(tmp_path: Path) -> None:
    with pytest.raises(ProfileError) as info:
        load_profile("fr-sesal")
    assert isinstance(info.value, UsageError)
    assert "unknown profile 'fr-sesal'" in str(info.value)
    assert "did you mean 'fr-sesali'?" in info.value.hint


def test_missing_profile_file(tmp_path: Path) -> None:
    with pytest.raises(ProfileError, match="no such profile file"):
        load_profile(tmp_path / "nope.yaml")


def test_search_dirs_add_profiles_by_id(tmp_path: Path) -> None:
    write(tmp_path, "extra-one", profile_text("extra-one", extends=["ehds-patient-summary"], reqs=["EX-001"]))
    assert "extra-one" in available_profiles([tmp_path])
    assert "extra-one" not in available_profiles()
    profile = load_profile("extra-one", [tmp_path])
    assert profile.requirement("PS-001").profile == "ehds-patient-summary"
    assert "EX-001" in all_requirements([tmp_path])
    assert "EX-001" not in all_requirements()


def test_same_id_in_two_places_with_different_content(tmp_path: Path) -> None:
    write(tmp_path, "ehds-core", profile_text("ehds-core", reqs=["FAKE-001"]))
    with pytest.raises(ProfileError, match="profile id 'ehds-core' is defined in two places"):
        available_profiles([tmp_path])


def test_missing_search_dir(tmp_path: Path) -> None:
    with pytest.raises(ProfileError, match="profile directory does not exist"):
        available_profiles([tmp_path / "nowhere"])


def test_edited_file_is_reloaded(tmp_path: Path) -> None:
    path = write(tmp_path, "live", profile_text("live", reqs=["L-001"]))
    first = load_profile(path)
    assert load_profile(path) is first
    path.write_text(profile_text("live", reqs=["L-001", "L-002"]), encoding="utf-8")
    second = load_profile(path)
    assert [r.id for r in second.requirements] == ["L-001", "L-002"]
    assert second.sha256 != first.sha256


def test_bad_yaml_mentions_where_an_unclosed_construct_opened(tmp_path: Path) -> None:
    text = profile_text("open").replace("    category: general\n", "    category: [general\n", 1)
    err = profile_error(write(tmp_path, "open", text))
    assert f"opened on line {line_of(text, 'category: [general')}" in str(err)
