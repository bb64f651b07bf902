"""An adapter module that fails at import (a vendor's missing dependency)."""

import not_installed_vendor_sdk  # noqa: F401


def create(config=None):  # pragma: no cover - never reached
    return None
