"""Copy the third-party browser assets installed by npm into static/vendor (served by Django).

Run by `make install` after `npm ci`; static/vendor is not committed.
"""

import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NODE_MODULES = ROOT / "node_modules"
VENDOR = ROOT / "static" / "vendor"

# package file in node_modules -> destination under static/vendor
ASSETS = {
    "htmx.org/dist/htmx.min.js": "htmx/htmx.min.js",
    "@picocss/pico/css/pico.min.css": "pico/pico.min.css",
    "cytoscape/dist/cytoscape.min.js": "cytoscape/cytoscape.min.js",  # ERD pictures
    # the mapping grid (editing, keyboard, clipboard, virtual rows)
    "tabulator-tables/dist/js/tabulator.min.js": "tabulator/tabulator.min.js",
    "tabulator-tables/dist/css/tabulator_simple.min.css": "tabulator/tabulator_simple.min.css",
    # The files name their source maps; collectstatic's manifest needs them beside the files.
    "tabulator-tables/dist/js/tabulator.min.js.map": "tabulator/tabulator.min.js.map",
    "tabulator-tables/dist/css/tabulator_simple.min.css.map": "tabulator/tabulator_simple.min.css.map",
}


def main() -> int:
    for source, destination in ASSETS.items():
        src = NODE_MODULES / source
        if not src.exists():
            print(f"missing {src}: run `npm ci` first", file=sys.stderr)
            return 1
        dst = VENDOR / destination
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dst)
    print(f"vendored {len(ASSETS)} assets into {VENDOR.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
