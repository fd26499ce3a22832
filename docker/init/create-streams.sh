#!/bin/sh
# Runs inside each LocalStack container once it is ready.
awslocal kinesis create-stream --stream-name orders --shard-count 2 --region "${DEFAULT_REGION}" || true
