"""The quality gate: Great Expectations suites over the raw layer and the marts.

    validate(settings, layer="raw"|"marts", run_id=None) -> ValidationResult
    gate(settings, layer, run_id=None)   # raises QualityGateFailed naming each failed expectation

Suites live in expectations/<layer>_*.json (see suites.py); what they look at is built in
frames.py; gx_run.py runs them; records.py remembers each gate result so publish can refuse a
run whose marts did not pass.
"""

__all__ = ["Failure", "ValidationResult", "gate", "validate"]


def __getattr__(name: str):
    # Lazy (PEP 562): importing a submodule such as quality.records (publish does) must not pay
    # for importing Great Expectations, which takes seconds.
    if name in __all__:
        from ouderpeil.quality import validation

        return getattr(validation, name)
    raise AttributeError(f"module 'ouderpeil.quality' has no attribute {name!r}")
