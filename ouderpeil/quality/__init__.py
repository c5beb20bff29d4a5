"""The quality gate: Great Expectations suites over the raw layer and the marts.

    validate(settings, layer="raw"|"marts", run_id=None) -> ValidationResult
    gate(settings, layer, run_id=None)   # raises QualityGateFailed naming each failed expectation

Suites live in expectations/<layer>_*.json (see suites.py); what they look at is built in
frames.py; gx_run.py runs them; records.py remembers each gate result so publish can refuse a
run whose marts did not pass.
"""
from ouderpeil.quality.validation import Failure, ValidationResult, gate, validate

__all__ = ["Failure", "ValidationResult", "gate", "validate"]
