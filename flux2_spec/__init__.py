"""The Flux-2 contract both sides share: the schema registry, validation, and data tables.

`mock_server` validates requests with it and `contract_tests` judges targets with it; neither
reaches into the other.
"""

from __future__ import annotations

from flux2_spec.resources import fail_message, image_size, load, price_usd, schemas_dir
from flux2_spec.validation import SchemaSet, schema_set

__all__ = ["SchemaSet", "fail_message", "image_size", "load", "price_usd", "schema_set",
           "schemas_dir"]
