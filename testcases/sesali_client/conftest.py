"""The client checks' session fixtures (defined in ehds_support.fr.fixtures, shared with sesali)."""

from ehds_support.fr.fixtures import french_catalogue, identity_traits, ncp, psc  # noqa: F401
