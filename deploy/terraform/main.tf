# A Flask or FastAPI app on AWS Lambda with bridge, behind a function URL, an
# HTTP API, a REST API and an Application Load Balancer, plus (websocket =
# true, for the FastAPI app) a WebSocket API with its DynamoDB connection
# table.  Delete the front doors you don't need.
#
#   pip install -r ../app/flask/requirements.txt -t build --platform manylinux2014_aarch64 --only-binary=:all:
#   cp ../app/flask/app.py build/
#   terraform init && terraform apply -var vpc_id=vpc-... -var 'subnet_ids=["subnet-...","subnet-..."]'
#
# For the FastAPI app: the same from ../app/fastapi, and -var websocket=true.

terraform {
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.0"
    }
    archive = {
      source  = "hashicorp/archive"
      version = ">= 2.4"
    }
  }
}

variable "name" {
  type    = string
  default = "bridge-app"
}

variable "build_dir" {
  description = "app.py and its dependencies (bridge-lambda, flask or fastapi)"
  type        = string
  default     = "build"
}

variable "websocket" {
  description = "Add the WebSocket API and its connection table (FastAPI app)"
  type        = bool
  default     = false
}

variable "vpc_id" {
  description = "The VPC of the load balancer"
  type        = string
}

variable "subnet_ids" {
  description = "Two or more public subnets in different Availability Zones"
  type        = list(string)
}

data "aws_region" "current" {}
data "aws_caller_identity" "current" {}

data "archive_file" "app" {
  type        = "zip"
  source_dir  = var.build_dir
  output_path = "${path.module}/app.zip"
}

resource "aws_iam_role" "app" {
  name = "${var.name}-lambda"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "lambda.amazonaws.com" }
      Action    = "sts:AssumeRole"
    }]
  })
}

resource "aws_iam_role_policy_attachment" "logs" {
  role       = aws_iam_role.app.name
  policy_arn = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
}

resource "aws_lambda_function" "app" {
  function_name    = var.name
  role             = aws_iam_role.app.arn
  handler          = "app.handler" # handler = Bridge(app)
  runtime          = "python3.13"
  architectures    = ["arm64"]
  memory_size      = 512
  timeout          = 29
  filename         = data.archive_file.app.output_path
  source_code_hash = data.archive_file.app.output_base64sha256

  environment {
    variables = var.websocket ? { CONNECTIONS_TABLE = aws_dynamodb_table.connections[0].name } : {}
  }
}

# 1. Function URL
resource "aws_lambda_function_url" "app" {
  function_name      = aws_lambda_function.app.function_name
  authorization_type = "NONE"
}

# 2. HTTP API (payload format 2.0): the $default route sends every path here.
resource "aws_apigatewayv2_api" "http" {
  name          = "${var.name}-http"
  protocol_type = "HTTP"
}

resource "aws_apigatewayv2_integration" "http" {
  api_id                 = aws_apigatewayv2_api.http.id
  integration_type       = "AWS_PROXY"
  integration_uri        = aws_lambda_function.app.invoke_arn
  payload_format_version = "2.0"
}

resource "aws_apigatewayv2_route" "http" {
  api_id    = aws_apigatewayv2_api.http.id
  route_key = "$default"
  target    = "integrations/${aws_apigatewayv2_integration.http.id}"
}

resource "aws_apigatewayv2_stage" "http" {
  api_id      = aws_apigatewayv2_api.http.id
  name        = "$default"
  auto_deploy = true
}

resource "aws_lambda_permission" "http" {
  statement_id  = "http-api"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.app.function_name
  principal     = "apigateway.amazonaws.com"
  source_arn    = "${aws_apigatewayv2_api.http.execution_arn}/*"
}

# 3. REST API: / and /{proxy+} with Lambda proxy integration; */* lets
#    binary responses (images, gzip) through as bytes.
resource "aws_api_gateway_rest_api" "rest" {
  name               = "${var.name}-rest"
  binary_media_types = ["*/*"]
}

resource "aws_api_gateway_resource" "proxy" {
  rest_api_id = aws_api_gateway_rest_api.rest.id
  parent_id   = aws_api_gateway_rest_api.rest.root_resource_id
  path_part   = "{proxy+}"
}

resource "aws_api_gateway_method" "root" {
  rest_api_id   = aws_api_gateway_rest_api.rest.id
  resource_id   = aws_api_gateway_rest_api.rest.root_resource_id
  http_method   = "ANY"
  authorization = "NONE"
}

resource "aws_api_gateway_method" "proxy" {
  rest_api_id   = aws_api_gateway_rest_api.rest.id
  resource_id   = aws_api_gateway_resource.proxy.id
  http_method   = "ANY"
  authorization = "NONE"
}

resource "aws_api_gateway_integration" "root" {
  rest_api_id             = aws_api_gateway_rest_api.rest.id
  resource_id             = aws_api_gateway_rest_api.rest.root_resource_id
  http_method             = aws_api_gateway_method.root.http_method
  type                    = "AWS_PROXY"
  integration_http_method = "POST"
  uri                     = aws_lambda_function.app.invoke_arn
}

resource "aws_api_gateway_integration" "proxy" {
  rest_api_id             = aws_api_gateway_rest_api.rest.id
  resource_id             = aws_api_gateway_resource.proxy.id
  http_method             = aws_api_gateway_method.proxy.http_method
  type                    = "AWS_PROXY"
  integration_http_method = "POST"
  uri                     = aws_lambda_function.app.invoke_arn
}

resource "aws_api_gateway_deployment" "rest" {
  rest_api_id = aws_api_gateway_rest_api.rest.id
  triggers = {
    redeployment = sha1(jsonencode([aws_api_gateway_integration.root.id, aws_api_gateway_integration.proxy.id]))
  }
  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_api_gateway_stage" "rest" {
  rest_api_id   = aws_api_gateway_rest_api.rest.id
  deployment_id = aws_api_gateway_deployment.rest.id
  stage_name    = "prod"
}

resource "aws_lambda_permission" "rest" {
  statement_id  = "rest-api"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.app.function_name
  principal     = "apigateway.amazonaws.com"
  source_arn    = "${aws_api_gateway_rest_api.rest.execution_arn}/*"
}

# 4. Application Load Balancer with a Lambda target group.
resource "aws_security_group" "alb" {
  name   = "${var.name}-alb"
  vpc_id = var.vpc_id
  ingress {
    from_port   = 80
    to_port     = 80
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }
  egress {
    from_port   = 0
    to_port     = 0
    protocol    = "-1"
    cidr_blocks = ["0.0.0.0/0"]
  }
}

resource "aws_lb" "alb" {
  name               = "${var.name}-alb"
  load_balancer_type = "application"
  subnets            = var.subnet_ids
  security_groups    = [aws_security_group.alb.id]
}

resource "aws_lb_target_group" "app" {
  name        = "${var.name}-tg"
  target_type = "lambda"
  # bridge answers in the mode the request came in; either setting works.
  lambda_multi_value_headers_enabled = true
}

resource "aws_lambda_permission" "alb" {
  statement_id  = "alb"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.app.function_name
  principal     = "elasticloadbalancing.amazonaws.com"
  source_arn    = aws_lb_target_group.app.arn
}

resource "aws_lb_target_group_attachment" "app" {
  target_group_arn = aws_lb_target_group.app.arn
  target_id        = aws_lambda_function.app.arn
  depends_on       = [aws_lambda_permission.alb]
}

resource "aws_lb_listener" "http" {
  load_balancer_arn = aws_lb.alb.arn
  port              = 80
  protocol          = "HTTP"
  default_action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.app.arn
  }
}

# 5. WebSocket API (websocket = true): $connect, $disconnect and $default to
#    the function; connections in DynamoDB (websocket_store=dynamodb://TABLE).
resource "aws_dynamodb_table" "connections" {
  count        = var.websocket ? 1 : 0
  name         = "${var.name}-connections"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "connection_id"
  attribute {
    name = "connection_id"
    type = "S"
  }
  ttl {
    attribute_name = "expires_at"
    enabled        = true
  }
}

resource "aws_apigatewayv2_api" "websocket" {
  count                      = var.websocket ? 1 : 0
  name                       = "${var.name}-websocket"
  protocol_type              = "WEBSOCKET"
  route_selection_expression = "$request.body.action"
}

resource "aws_apigatewayv2_integration" "websocket" {
  count            = var.websocket ? 1 : 0
  api_id           = aws_apigatewayv2_api.websocket[0].id
  integration_type = "AWS_PROXY"
  integration_uri  = aws_lambda_function.app.invoke_arn
}

resource "aws_apigatewayv2_route" "websocket" {
  for_each  = var.websocket ? toset(["$connect", "$disconnect", "$default"]) : toset([])
  api_id    = aws_apigatewayv2_api.websocket[0].id
  route_key = each.value
  target    = "integrations/${aws_apigatewayv2_integration.websocket[0].id}"
}

resource "aws_apigatewayv2_stage" "websocket" {
  count       = var.websocket ? 1 : 0
  api_id      = aws_apigatewayv2_api.websocket[0].id
  name        = "prod"
  auto_deploy = true
}

resource "aws_lambda_permission" "websocket" {
  count         = var.websocket ? 1 : 0
  statement_id  = "websocket-api"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.app.function_name
  principal     = "apigateway.amazonaws.com"
  source_arn    = "${aws_apigatewayv2_api.websocket[0].execution_arn}/*"
}

resource "aws_iam_role_policy" "websocket" {
  count = var.websocket ? 1 : 0
  name  = "websocket"
  role  = aws_iam_role.app.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Effect   = "Allow"
        Action   = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem", "dynamodb:Scan"]
        Resource = aws_dynamodb_table.connections[0].arn
      },
      {
        # Send to connected clients through the Management API.
        Effect   = "Allow"
        Action   = "execute-api:ManageConnections"
        Resource = "${aws_apigatewayv2_api.websocket[0].execution_arn}/*/POST/@connections/*"
      },
    ]
  })
}

output "function_url" {
  value = aws_lambda_function_url.app.function_url
}

output "http_api_url" {
  value = aws_apigatewayv2_api.http.api_endpoint
}

output "rest_api_url" {
  value = aws_api_gateway_stage.rest.invoke_url
}

output "load_balancer_url" {
  value = "http://${aws_lb.alb.dns_name}/"
}

output "websocket_url" {
  value = var.websocket ? aws_apigatewayv2_stage.websocket[0].invoke_url : null
}
