"""Interface Layer contracts: the fixed canonical target, imported, versioned and read-only once published."""
