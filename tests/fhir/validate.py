"""Validates a careledger FHIR export with an independent FHIR implementation.

Usage: python validate.py BUNDLE.json
Parses the Bundle and every entry's resource with the `fhir.resources` R4B models (pydantic),
prints how many resources of each type passed, and exits non-zero on the first invalid one.
"""
import collections
import json
import sys

from fhir.resources.R4B import get_fhir_model_class


def construct_fhir_element(kind, data):
    """Parses `data` as the R4B model named `kind`; raises on any invalid field."""
    return get_fhir_model_class(kind).model_validate(data)


def main(path: str) -> int:
    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    construct_fhir_element("Bundle", data)
    counts = collections.Counter()
    for i, entry in enumerate(data.get("entry", [])):
        resource = entry["resource"]
        kind = resource["resourceType"]
        try:
            construct_fhir_element(kind, resource)
        except Exception as err:  # pydantic.ValidationError and FHIR element errors
            print(f"entry {i} ({kind}) is invalid: {err}", file=sys.stderr)
            return 1
        counts[kind] += 1
    print(" ".join(f"{kind}={n}" for kind, n in sorted(counts.items())))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
