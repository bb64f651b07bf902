"""Hypothesis strategies for EEHRxF documents.

Public API (thin re-exports, like hypothesis's own ``strategies``):

* :func:`documents` – complete, valid document Bundles per priority category;
* :func:`patients` – patient identities;
* :func:`from_profile` – instances of a resource profile in the loaded packages, each valid;
* :func:`generation_stats` – how many instances were built, repaired and filtered, per profile;
* :func:`mutations` – a document with exactly one named rule broken, tagged (:class:`Mutation`).

Module names differ from the function names on purpose (importing a submodule would otherwise
replace the function on the package).
"""

from conformance.strategies.bundles import documents, patients
from conformance.strategies.choosers import HypothesisChooser
from conformance.strategies.mutants import MUTATION_KINDS, Mutation, mutate, mutations
from conformance.strategies.profile import from_profile, generation_stats

__all__ = ["MUTATION_KINDS", "HypothesisChooser", "Mutation", "documents", "from_profile", "generation_stats",
           "mutate", "mutations", "patients"]
