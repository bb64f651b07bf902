"""accepts_dangling_references: references that resolve nowhere in the document are ignored, as
by a validator that treats every unresolvable reference as external (so the entries they should
point at are not checked against their profiles either). The document's subject must still
resolve, or the EHR could not file it. Breaks EHDS-INT-012."""

from conformance.issues import ValidationIssue
from tests.mutants._factory import mutant_factory
from tests.mutants.categories._lenient import lenient


def _unfollowed(issue: ValidationIssue) -> bool:
    if issue.code == "not-found":
        return True
    # consequences of not following references: a Bundle-level entry slice of a profile-discriminated
    # document (IPS) counts the Composition only when its section entries resolve to conformant resources
    return issue.location == "Bundle" and issue.rule.startswith("Bundle.entry:")


AcceptsDanglingReferences = lenient(_unfollowed, also_structural=True)
create = mutant_factory(AcceptsDanglingReferences, "accepts_dangling_references")
