"""The deployable AWS Lambda handler (:mod:`pipeline.aws_lambda.handler`), its configuration from environment
variables (:mod:`~pipeline.aws_lambda.config`) and its logs, metrics and traces (:mod:`~pipeline.aws_lambda.
observability`). The handler setting is ``pipeline.aws_lambda.handler.handler``."""
