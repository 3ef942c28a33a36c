"""AWS CDK (Python) app: a Flask and a FastAPI function with bridge behind every
front door: a function URL, an HTTP API, a REST API (binary media types
``*/*``), an Application Load Balancer and, for FastAPI, a WebSocket API with
its DynamoDB connection table.  Delete the front doors you don't need.

    cd deploy/cdk && cdk synth      # cdk deploy BridgeFlask BridgeFastAPI

``Code.from_asset`` zips the folder as it is: put the dependencies in it first
(``pip install -r requirements.txt -t .`` in a copy of deploy/app/flask, for
the Lambda architecture), or pass ``-c flask_code=DIR -c fastapi_code=DIR``.
"""

from __future__ import annotations

from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_apigatewayv2_integrations as integrations
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_elasticloadbalancingv2_targets as targets
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

APPS = Path(__file__).resolve().parent.parent / "app"


class BridgeStack(cdk.Stack):
    def __init__(self, scope: Construct, id: str, *, code: str, websocket: bool) -> None:
        super().__init__(scope, id)

        function = lambda_.Function(
            self,
            "App",
            runtime=lambda_.Runtime.PYTHON_3_13,
            architecture=lambda_.Architecture.ARM_64,
            handler="app.handler",  # handler = Bridge(app)
            code=lambda_.Code.from_asset(code),
            memory_size=512,
            timeout=cdk.Duration.seconds(29),
        )

        # 1. Function URL
        url = function.add_function_url(auth_type=lambda_.FunctionUrlAuthType.NONE)
        cdk.CfnOutput(self, "FunctionUrl", value=url.url)

        # 2. HTTP API (payload format 2.0), every path
        http_api = apigwv2.HttpApi(
            self,
            "HttpApi",
            default_integration=integrations.HttpLambdaIntegration("Http", function),
        )
        cdk.CfnOutput(self, "HttpApiUrl", value=http_api.url or "")

        # 3. REST API, Lambda proxy on / and /{proxy+}; */* lets binary responses through
        rest_api = apigw.LambdaRestApi(
            self,
            "RestApi",
            handler=function,
            binary_media_types=["*/*"],
            deploy_options=apigw.StageOptions(stage_name="prod"),
        )
        cdk.CfnOutput(self, "RestApiUrl", value=rest_api.url)

        # 4. Application Load Balancer, in a new VPC of public subnets
        vpc = ec2.Vpc(
            self,
            "Vpc",
            max_azs=2,
            nat_gateways=0,
            subnet_configuration=[
                ec2.SubnetConfiguration(name="public", subnet_type=ec2.SubnetType.PUBLIC)
            ],
        )
        alb = elbv2.ApplicationLoadBalancer(self, "LoadBalancer", vpc=vpc, internet_facing=True)
        listener = alb.add_listener("Http", port=80)
        listener.add_targets("App", targets=[targets.LambdaTarget(function)])
        cdk.CfnOutput(self, "LoadBalancerUrl", value=f"http://{alb.load_balancer_dns_name}/")

        if not websocket:
            return

        # 5. WebSocket API: $connect, $disconnect and $default to the function,
        #    connections kept in DynamoDB (websocket_store=dynamodb://TABLE)
        table = dynamodb.Table(
            self,
            "Connections",
            partition_key=dynamodb.Attribute(
                name="connection_id", type=dynamodb.AttributeType.STRING
            ),
            time_to_live_attribute="expires_at",
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            removal_policy=cdk.RemovalPolicy.DESTROY,
        )
        table.grant_read_write_data(function)
        function.add_environment("CONNECTIONS_TABLE", table.table_name)

        def route() -> apigwv2.WebSocketRouteOptions:
            return apigwv2.WebSocketRouteOptions(
                integration=integrations.WebSocketLambdaIntegration("WebSocket", function)
            )

        ws_api = apigwv2.WebSocketApi(
            self,
            "WebSocketApi",
            connect_route_options=route(),
            disconnect_route_options=route(),
            default_route_options=route(),
        )
        stage = apigwv2.WebSocketStage(
            self, "WebSocketStage", web_socket_api=ws_api, stage_name="prod", auto_deploy=True
        )
        ws_api.grant_manage_connections(function)  # execute-api:ManageConnections
        cdk.CfnOutput(self, "WebSocketUrl", value=stage.url)


app = cdk.App()
BridgeStack(
    app,
    "BridgeFlask",
    code=app.node.try_get_context("flask_code") or str(APPS / "flask"),
    websocket=False,
)
BridgeStack(
    app,
    "BridgeFastAPI",
    code=app.node.try_get_context("fastapi_code") or str(APPS / "fastapi"),
    websocket=True,
)
app.synth()
