"""accepts_missing_required: missing required elements (cardinality) are ignored. Breaks EHDS-INT-012."""

from tests.mutants._factory import mutant_factory
from tests.mutants.categories._lenient import lenient

AcceptsMissingRequired = lenient(lambda issue: issue.code == "required")
create = mutant_factory(AcceptsMissingRequired, "accepts_missing_required")
