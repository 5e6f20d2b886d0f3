"""Great-circle distances and the service territory."""

from __future__ import annotations

import json

import pytest
import shapely
from shapely.geometry import box

from backend.installs.context import load_territory
from backend.settings import get_settings
from backend.validation.geo import Territory, distance_m

ARNHEM_STATION = (51.9850, 5.8987)
NIJMEGEN_STATION = (51.8430, 5.8530)
ARNHEM_CENTRE = (51.98370, 5.90560)
AMSTERDAM = (52.37, 4.89)


class TestDistance:
    async def test_arnhem_to_nijmegen_station(self) -> None:
        assert distance_m(*ARNHEM_STATION, *NIJMEGEN_STATION) == pytest.approx(16_100, rel=0.01)

    async def test_symmetric_and_zero_on_the_spot(self) -> None:
        there = distance_m(*ARNHEM_STATION, *NIJMEGEN_STATION)
        assert distance_m(*NIJMEGEN_STATION, *ARNHEM_STATION) == pytest.approx(there)
        assert distance_m(*ARNHEM_CENTRE, *ARNHEM_CENTRE) == 0.0

    async def test_one_degree_of_latitude(self) -> None:
        assert distance_m(52.0, 5.0, 53.0, 5.0) == pytest.approx(111_195, rel=0.001)

    async def test_antipodes_do_not_break_the_formula(self) -> None:
        assert distance_m(0.0, 0.0, 0.0, 180.0) == pytest.approx(20_015_087, rel=0.001)

    async def test_short_street_distance(self) -> None:
        # 0.001 degree of longitude at 52 N is about 68.5 m.
        assert distance_m(52.0, 5.0, 52.0, 5.001) == pytest.approx(68.5, abs=0.5)


class TestTerritory:
    async def test_demo_territory_contains_arnhem_not_amsterdam(self) -> None:
        territory = load_territory(get_settings().territory_path)
        assert territory.contains(*ARNHEM_CENTRE)
        assert territory.contains(*NIJMEGEN_STATION)
        assert not territory.contains(*AMSTERDAM)

    async def test_coordinates_are_lat_lon_not_lon_lat(self) -> None:
        territory = Territory(box(5.0, 51.0, 6.0, 52.0))  # x = lon, y = lat
        assert territory.contains(51.5, 5.5)
        assert not territory.contains(5.5, 51.5)

    async def test_feature_collection_is_the_union_of_its_features(self) -> None:
        doc = {
            "type": "FeatureCollection",
            "features": [
                {"type": "Feature", "properties": {}, "geometry": shapely.geometry.mapping(box(0, 0, 1, 1))},
                {"type": "Feature", "properties": {}, "geometry": shapely.geometry.mapping(box(10, 10, 11, 11))},
            ],
        }
        territory = Territory.from_geojson(json.dumps(doc).encode())
        assert territory.contains(0.5, 0.5) and territory.contains(10.5, 10.5)
        assert not territory.contains(5.0, 5.0)

    async def test_single_feature_and_bare_geometry(self) -> None:
        geometry = shapely.geometry.mapping(box(5.0, 51.0, 6.0, 52.0))
        for doc in ({"type": "Feature", "properties": {}, "geometry": geometry}, geometry):
            assert Territory.from_geojson(json.dumps(doc).encode()).contains(51.5, 5.5)

    async def test_invalid_polygon_is_refused(self) -> None:
        bowtie = {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]}
        with pytest.raises(ValueError, match="not valid"):
            Territory.from_geojson(json.dumps(bowtie).encode())
