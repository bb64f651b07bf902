"""EHDS helpers shared by the checks (not part of the engine).

`conformance/` knows no requirement; what a check needs to know about EHDS
requirements (which requirement fails when a declared category is rejected, how
the auditor's view of the log is read...) lives here, beside the checks.
`testcases/pytest.ini` puts this folder on the path, so checks import
``ehds_support`` the same way from a source checkout and from the installed wheel.
"""
