#!/usr/bin/python3
"""Parses Prometheus text exposition format read from stdin, strictly.

The text is parsed by the prometheus_client library's parser (Debian's
python3-prometheus-client), then held to what that parser lets pass: every
sample belongs to a family declared by one # HELP and one # TYPE line before
it, no series appears twice, and each histogram's buckets are cumulative and
end with le="+Inf" equal to its _count.

Prints each sample as one line, `name{label="value",...} value`, labels
sorted by name, so that tests can look samples up by series. Exits 1 with
the reason on stderr when the text is not valid.

Usage: parse_metrics.py < metrics.txt
"""

import math
import re
import sys

from prometheus_client.parser import text_string_to_metric_families

DECLARATION = re.compile(r"^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*)( .*)?$")
SAMPLE_NAME = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)")
SUFFIXES = {
    "counter": [""],
    "gauge": [""],
    "histogram": ["_bucket", "_sum", "_count"],
}


def series(name, labels):
    """Returns the canonical text of a series."""
    text = ",".join(
        '%s="%s"' % (key, labels[key].replace("\\", "\\\\")
                     .replace('"', '\\"').replace("\n", "\\n"))
        for key in sorted(labels))
    return "%s{%s}" % (name, text) if text else name


def check_declarations(text):
    """Fails unless every sample line follows its family's HELP and TYPE."""
    declared = {}  # name -> {"HELP": ..., "TYPE": ...}
    for number, line in enumerate(text.splitlines(), 1):
        if not line:
            continue
        match = DECLARATION.match(line)
        if match:
            kind, name = match.group(1), match.group(2)
            seen = declared.setdefault(name, {})
            if kind in seen:
                raise ValueError("line %d: second # %s for %s"
                                 % (number, kind, name))
            seen[kind] = (match.group(3) or "").strip()
            continue
        if line.startswith("#"):
            continue
        match = SAMPLE_NAME.match(line)
        if not match:
            raise ValueError("line %d: no metric name" % number)
        name = match.group(1)
        owners = [family for family, seen in declared.items()
                  if "TYPE" in seen and "HELP" in seen and any(
                      name == family + suffix
                      for suffix in SUFFIXES.get(seen["TYPE"], []))]
        if not owners:
            raise ValueError("line %d: sample %s has no # HELP and # TYPE "
                             "before it" % (number, name))


def check_histogram(family):
    """Fails unless each series' buckets are cumulative, end with +Inf, and
    the +Inf bucket equals _count."""
    by_series = {}
    for sample in family.samples:
        labels = dict(sample.labels)
        bound = labels.pop("le", None)
        key = series("", labels)
        entry = by_series.setdefault(key, {"buckets": [], "count": None})
        if sample.name.endswith("_bucket"):
            entry["buckets"].append((float(bound), sample.value))
        elif sample.name.endswith("_count"):
            entry["count"] = sample.value
    for key, entry in by_series.items():
        buckets = entry["buckets"]
        if not buckets or not math.isinf(buckets[-1][0]):
            raise ValueError("%s%s: no le=\"+Inf\" bucket last"
                             % (family.name, key))
        if [b for b, _ in buckets] != sorted(b for b, _ in buckets):
            raise ValueError("%s%s: buckets out of order" % (family.name, key))
        counts = [c for _, c in buckets]
        if counts != sorted(counts):
            raise ValueError("%s%s: buckets not cumulative"
                             % (family.name, key))
        if entry["count"] != counts[-1]:
            raise ValueError("%s%s: _count %s differs from the +Inf bucket %s"
                             % (family.name, key, entry["count"], counts[-1]))


def main():
    text = sys.stdin.read()
    try:
        check_declarations(text)
        lines = []
        seen = set()
        for family in text_string_to_metric_families(text):
            if family.type == "histogram":
                check_histogram(family)
            for sample in family.samples:
                key = series(sample.name, sample.labels)
                if key in seen:
                    raise ValueError("series %s appears twice" % key)
                seen.add(key)
                lines.append("%s %r" % (key, sample.value))
    except Exception as error:  # The parser's errors are of several types.
        print("invalid metrics text: %s" % error, file=sys.stderr)
        return 1
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
