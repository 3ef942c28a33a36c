"""Mangum's options of every generation: old names mapped with a warning, the rest refused
with the closest option named."""

from __future__ import annotations

import pytest
from fastapi import FastAPI

from bridge import Bridge, ConfigurationError
from bridge.local.events import build_event
from tests.asgi.test_lifespan import CountingApp


@pytest.fixture
def counting() -> CountingApp:
    return CountingApp()


@pytest.mark.parametrize(("enable", "startups"), [(True, 1), (False, 0)])
def test_enable_lifespan_maps_to_lifespan_with_a_deprecation_warning(
    counting: CountingApp, enable: bool, startups: int
) -> None:
    with pytest.warns(DeprecationWarning, match=r"enable_lifespan=.* use lifespan='(auto|off)'"):
        handler = Bridge(counting, enable_lifespan=enable)
    try:
        assert handler(build_event("http"))["statusCode"] == 200
        assert counting.startups == startups
    finally:
        handler.close()


def test_the_warning_points_at_the_callers_line(counting: CountingApp) -> None:
    with pytest.warns(DeprecationWarning, match="enable_lifespan") as warned:
        Bridge(counting, enable_lifespan=False).close()
    assert warned[0].filename == __file__


def test_enable_lifespan_with_lifespan_is_refused(counting: CountingApp) -> None:
    with pytest.raises(ConfigurationError, match=r"Both lifespan='auto' and enable_lifespan=True"):
        Bridge(counting, lifespan="auto", enable_lifespan=True)
    assert counting.startups == 0


def test_enable_lifespan_must_be_a_bool(counting: CountingApp) -> None:
    with pytest.raises(ConfigurationError, match=r"must be True or False, got 'no'"):
        Bridge(counting, enable_lifespan="no")


@pytest.mark.parametrize(
    ("keyword", "closest"),
    [
        ("TEXT_MIME_TYPES", "text_mime_types"),  # as Mangum's HTTP docs spell it
        ("text_mime_type", "text_mime_types"),
        ("exclude_header", "exclude_headers"),
        ("api_gateway_basepath", "api_gateway_base_path"),
        ("lifespam", "lifespan"),
    ],
)
def test_an_unknown_keyword_names_the_closest_option(keyword: str, closest: str) -> None:
    app = FastAPI()
    with pytest.raises(ConfigurationError) as refused:
        Bridge(app, **{keyword: ["application/x-custom"]})  # type: ignore[arg-type]
    message = str(refused.value)
    assert f"unexpected keyword argument {keyword!r} (did you mean {closest!r}?)" in message
    assert "Its options are: interface, lifespan, api_gateway_base_path," in message


def test_a_keyword_like_no_option_lists_the_options() -> None:
    with pytest.raises(ConfigurationError, match=r"argument 'zzz'\. Its options are: interface"):
        Bridge(FastAPI(), zzz=1)


@pytest.mark.parametrize(
    ("keyword", "remedy"),
    [
        ("log_level", "logging.getLogger('bridge')"),
        ("spec_version", "interface="),
        ("dsn", "websocket_store="),
        ("api_gateway_endpoint_url", "websocket_endpoint="),
    ],
)
def test_an_option_of_an_old_mangum_says_what_to_use(keyword: str, remedy: str) -> None:
    with pytest.raises(ConfigurationError) as refused:
        Bridge(FastAPI(), **{keyword: "x"})  # type: ignore[arg-type]
    assert f"{keyword!r} (a Mangum option) is not supported" in str(refused.value)
    assert remedy in str(refused.value)


def test_positional_options_stay_a_type_error() -> None:
    with pytest.raises(TypeError):
        Bridge(FastAPI(), "asgi")  # type: ignore[call-arg]
