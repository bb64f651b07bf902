"""The Sesali checks' session fixtures (defined in ehds_support.fr.fixtures, shared with sesali_client)."""

from ehds_support.fr.fixtures import french_catalogue, identity_traits, psc  # noqa: F401
