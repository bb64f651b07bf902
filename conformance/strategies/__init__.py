"""Hypothesis strategies for EEHRxF documents.

Public API (thin re-exports, like hypothesis's own ``strategies``):

* :func:`documents` – complete, valid document Bundles per priority category;
* :func:`patients` – patient identities;
* :func:`from_profile` – instances of any StructureDefinition in the loaded packages;
* :func:`mutations` – a document with exactly one named rule broken, tagged with that rule.
"""

from conformance.strategies.choosers import HypothesisChooser
from conformance.strategies.documents import documents, patients

__all__ = ["HypothesisChooser", "documents", "patients"]
