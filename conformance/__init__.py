"""ehds-conformance: a conformance harness for the European Health Data Space (EHDS).

Public entry points: the `conformance` CLI, the pytest plugin
(`conformance.pytest_plugin`), the adapter contract (`conformance.adapter`),
the validators (`conformance.fhir`, `conformance.cda`) and the hypothesis
strategies (`conformance.strategies`).
"""

__version__ = "0.1.0"
