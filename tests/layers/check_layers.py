#!/usr/bin/env python3
"""Fails when a source file includes a header from a layer it may not use.

The layers and their allowed arrows are those of docs/ARCHITECTURE.md:
api -> engine -> domain -> storage; delivery -> domain; everything ->
common and contract; nothing points back up. common's metrics/ uses
nothing of ours, so any server layer may count with it (storage, which may
not include it, reports through callbacks). client/ and tools/ may use
the contract library and nothing else of server/.

Usage: check_layers.py REPOSITORY_ROOT   (prints each violation, exits 1)
       check_layers.py --self-test        (proves a violation is caught)
"""

import os
import re
import sys
import tempfile

# Each layer, by the folder that holds it, and the folders whose headers
# its files may include (its own included). Longest prefix wins, so
# server/api/ is matched before server/.
ALLOWED = {
    "server/contract/": ["server/contract/"],
    "server/common/metrics/": ["server/common/metrics/"],
    "server/common/": ["server/contract/", "server/common/"],
    "storage/": ["storage/"],
    "storage/sql/": ["storage/"],
    "storage/sqlite/": ["storage/"],
    "storage/postgres/": ["storage/"],
    "server/domain/": ["server/contract/", "server/common/", "server/domain/",
                       "storage/"],
    "server/engine/": ["server/contract/", "server/common/", "server/domain/",
                       "server/engine/", "storage/"],
    "server/delivery/": ["server/contract/", "server/common/",
                         "server/domain/", "server/delivery/", "storage/"],
    "server/api/": ["server/contract/", "server/common/", "server/domain/",
                    "server/engine/", "server/api/", "storage/"],
    # main, the server's wiring, bootstrap and janitors: everything.
    "server/": ["server/", "storage/"],
    "client/": ["client/", "server/contract/"],
    "tools/": ["tools/", "server/contract/", "storage/", "tests/support/"],
}

# Within storage/, the one SQL implementation of the repositories serves both
# backends, so it uses neither, and neither backend uses the other.
NEVER = {
    "storage/sql/": ("storage/sqlite/", "storage/postgres/"),
    "storage/sqlite/": ("storage/postgres/",),
    "storage/postgres/": ("storage/sqlite/",),
}

# Only includes of our own folders are checked; generated protos
# ("ats/v1/...") and libraries are every layer's to use.
OWN_FOLDERS = ("server/", "storage/", "client/", "tools/", "tests/")
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.MULTILINE)


def layer_of(path):
    """Returns the ALLOWED key of `path`, or None for unchecked files."""
    matches = [layer for layer in ALLOWED if path.startswith(layer)]
    return max(matches, key=len) if matches else None


def violations(root):
    """Yields "file:line: includes X, but LAYER may only use ..." lines."""
    for folder, _, names in sorted(os.walk(root)):
        rel_folder = os.path.relpath(folder, root)
        if rel_folder.split(os.sep)[0] in ("build", "node_modules", ".git"):
            continue
        for name in sorted(names):
            if not name.endswith((".h", ".cc")):
                continue
            path = os.path.normpath(os.path.join(rel_folder, name))
            layer = layer_of(path)
            if layer is None:
                continue
            with open(os.path.join(root, path), encoding="utf-8") as f:
                text = f.read()
            for match in INCLUDE.finditer(text):
                header = match.group(1)
                if not header.startswith(OWN_FOLDERS):
                    continue
                never = NEVER.get(layer, ())
                if (any(header.startswith(ok) for ok in ALLOWED[layer]) and
                        not header.startswith(never)):
                    continue
                line = text.count("\n", 0, match.start()) + 1
                but_not = f" but not {', '.join(never)}" if never else ""
                yield (f"{path}:{line}: includes {header}, but {layer} may "
                       f"only use {', '.join(ALLOWED[layer])}{but_not}")


def self_test():
    """Returns 0 when a planted upward include is reported and a legal one
    is not."""
    with tempfile.TemporaryDirectory() as root:
        def write(path, text):
            os.makedirs(os.path.dirname(os.path.join(root, path)),
                        exist_ok=True)
            with open(os.path.join(root, path), "w", encoding="utf-8") as f:
                f.write(text)
        write("server/engine/ok.cc", '#include "server/domain/caller.h"\n')
        write("server/engine/up.cc", '#include "server/api/auth.h"\n')
        write("client/up.cc", '#include "server/common/clock.h"\n')
        write("storage/up.h", '#include "server/contract/errors.h"\n')
        write("storage/sql/ok.cc", '#include "storage/page.h"\n')
        write("storage/sql/backend.cc", '#include "storage/sqlite/db.h"\n')
        found = list(violations(root))
    expected = ["server/engine/up.cc:1:", "client/up.cc:1:", "storage/up.h:1:",
                "storage/sql/backend.cc:1:"]
    missing = [e for e in expected if not any(v.startswith(e) for v in found)]
    wrong = [v for v in found if v.startswith(("server/engine/ok.cc",
                                               "storage/sql/ok.cc"))]
    if missing or wrong or len(found) != len(expected):
        print("self-test failed: found", found)
        return 1
    print("self-test passed:", len(found), "planted violations caught")
    return 0


def main(argv):
    if argv[1:] == ["--self-test"]:
        return self_test()
    if len(argv) != 2:
        print(__doc__)
        return 2
    found = list(violations(argv[1]))
    for line in found:
        print(line)
    print(f"{len(found)} include(s) across layers that may not use them")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
