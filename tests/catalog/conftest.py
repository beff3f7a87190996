"""Fixtures of the catalog stories: a demo Mart file, a registered source, a catalog."""

from __future__ import annotations

import pytest

from catalog.demo_mart import build_demo_mart
from catalog.services import sources as services
from workbench.choices import Role

from ..factories import member


@pytest.fixture(scope="session")
def demo_mart_file(tmp_path_factory):
    return build_demo_mart(tmp_path_factory.mktemp("mart") / "demo_mart.sqlite3")


@pytest.fixture
def mart_copy(demo_mart_file, tmp_path):
    """A private copy of the demo Mart a test may change."""
    path = tmp_path / "mart.sqlite3"
    path.write_bytes(demo_mart_file.read_bytes())
    return path


@pytest.fixture
def etl(engagement):
    return member(engagement, Role.ETL_DEVELOPER, "etl")


@pytest.fixture
def source(engagement, ba, demo_mart_file):
    return services.source_system_create(
        engagement=engagement, name="Acme Mart", url=f"sqlite:///{demo_mart_file}", acting_user=ba
    )


@pytest.fixture
def cataloged(source, ba):
    services.catalog_introspect(source=source, acting_user=ba)
    return source


@pytest.fixture
def profiled(cataloged, ba):
    from catalog.services.profiling import catalog_profile

    catalog_profile(source=cataloged, acting_user=ba)
    return cataloged
