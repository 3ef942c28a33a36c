"""``EventSource`` and ``SourceConfig``: records that compare, hash, copy, pickle,
replace and match by field, without ``dataclasses`` (kept off the cold start)."""

from __future__ import annotations

import copy
import pickle
from typing import Any

import pytest

from bridge import body
from bridge.sources.base import EventSource, SourceConfig


def _source(**changes: Any) -> EventSource:
    fields: dict[str, Any] = {
        "name": "x",
        "matches": bool,
        "to_request": print,
        "to_response": print,
    }
    return EventSource(**{**fields, **changes})


def test_records_compare_and_hash_by_field() -> None:
    serializer = body.BodySerializer()
    assert SourceConfig("/a", serializer) == SourceConfig(base_path="/a", serializer=serializer)
    assert hash(SourceConfig("/a", serializer)) == hash(SourceConfig("/a", serializer))
    assert SourceConfig("/a", serializer) != SourceConfig("/b", serializer)
    assert SourceConfig() != SourceConfig()  # each has its own serializer
    assert _source() == _source()
    assert _source() != _source(looks_for="y")
    assert _source() != ("x", bool, print, print, "")  # type: ignore[comparison-overlap]
    assert len({_source(), _source(), _source(name="y")}) == 2


def test_records_are_frozen() -> None:
    config = SourceConfig()
    with pytest.raises(AttributeError, match="frozen"):
        config.base_path = "/x"  # type: ignore[misc]
    with pytest.raises(AttributeError, match="frozen"):
        del config.base_path
    with pytest.raises(AttributeError):
        config.other = 1  # type: ignore[attr-defined]
    assert not hasattr(config, "__dict__")


def test_records_have_defaults_and_a_field_repr() -> None:
    config = SourceConfig()
    assert config.base_path == ""
    assert isinstance(config.serializer, body.BodySerializer)
    assert SourceConfig(serializer=None).serializer is not None
    assert _source().looks_for == ""
    assert repr(_source()) == (
        "EventSource(name='x', matches=<class 'bool'>, to_request=<built-in function print>, "
        "to_response=<built-in function print>, looks_for='', read=None, response_limit=None)"
    )
    assert repr(config).startswith("SourceConfig(base_path='', serializer=<bridge.body.")


def test_records_copy_pickle_replace_and_match() -> None:
    source = _source()
    assert copy.copy(source) == source
    assert pickle.loads(pickle.dumps(source)) == source
    renamed = source.__replace__(name="y")  # type: ignore[attr-defined]
    assert (renamed.name, renamed.matches, source.name) == ("y", bool, "x")
    with pytest.raises(TypeError, match="no field 'nme'"):
        source.__replace__(nme="y")  # type: ignore[attr-defined]
    match source:
        case EventSource(name, matches):
            assert (name, matches) == ("x", bool)
        case _:  # pragma: no cover - a failure
            pytest.fail("no match")
