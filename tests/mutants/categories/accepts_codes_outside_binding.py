"""accepts_codes_outside_binding: codes outside required value sets are ignored. Breaks EHDS-INT-012."""

from tests.mutants._factory import mutant_factory
from tests.mutants.categories._lenient import lenient

AcceptsCodesOutsideBinding = lenient(lambda issue: issue.code == "code-invalid")
create = mutant_factory(AcceptsCodesOutsideBinding, "accepts_codes_outside_binding")
