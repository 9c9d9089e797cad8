# CloudWatch alarms mirroring infra/prometheus/alerts.yaml one for one: same
# name, same threshold, same duration (datapoints_to_alarm × period = the
# alert's `for`, or its range window when `for` is 0). tests/infra compares
# the two files, so an alert added to one and not the other fails the build.
#
# Each alarm evaluates `expression` over the metrics it names (ids m1…);
# metrics are in namespace "Maria" (cloudwatch.tf) unless they say otherwise.
# Where Prometheus groups by a label (per consumer, per method) the alarm
# watches the dimension-less rollup: it fires on the total, and the runbook
# (infra/runbooks/observability.md, the same anchors) finds the culprit.
locals {
  alarms = {
    MariaDeadLettersGrowing = {
      severity = "warning", threshold = 0, comparison = "GreaterThanThreshold", period = 900, datapoints = 1
      expression = "m1"
      metrics    = { m1 = { metric = "maria_dead_letters_total", stat = "Sum", dimensions = {} } }
    }
    MariaDeadLettersBurst = {
      severity = "critical", threshold = 20, comparison = "GreaterThanThreshold", period = 900, datapoints = 1
      expression = "m1"
      metrics    = { m1 = { metric = "maria_dead_letters_total", stat = "Sum", dimensions = {} } }
    }
    MariaConsumerLag = {
      severity = "warning", threshold = 100, comparison = "GreaterThanThreshold", period = 60, datapoints = 10
      expression = "m1"
      metrics    = { m1 = { metric = "maria_consumer_pending", stat = "Maximum", dimensions = {} } }
    }
    MariaConsumerStalled = {
      severity = "critical", threshold = 0, comparison = "GreaterThanThreshold", period = 300, datapoints = 2
      expression = "IF(m1 > 0 AND FILL(m2, 0) == 0, 1, 0)"
      metrics = {
        m1 = { metric = "maria_consumer_pending", stat = "Maximum", dimensions = {} }
        m2 = { metric = "maria_processor_messages_total", stat = "Sum", dimensions = {} }
      }
    }
    MariaProcessorErrorRate = {
      # more than 10% failing, when more than 0.01/s (6 per 10 minutes) are handled
      severity = "warning", threshold = 0.1, comparison = "GreaterThanThreshold", period = 600, datapoints = 1
      expression = "IF(m3 > 6, (FILL(m1, 0) + FILL(m2, 0)) / m3, 0)"
      metrics = {
        m1 = { metric = "maria_processor_messages_total", stat = "Sum", dimensions = { outcome = "nak" } }
        m2 = { metric = "maria_processor_messages_total", stat = "Sum", dimensions = { outcome = "dead_letter" } }
        m3 = { metric = "maria_processor_messages_total", stat = "Sum", dimensions = {} }
      }
    }
    MariaHandlerSlow = {
      severity = "warning", threshold = 20, comparison = "GreaterThanThreshold", period = 900, datapoints = 1
      expression = "m1"
      metrics    = { m1 = { metric = "maria_processor_handler_seconds", stat = "p95", dimensions = {} } }
    }
    MariaSlackRateLimited = {
      severity = "warning", threshold = 10, comparison = "GreaterThanThreshold", period = 600, datapoints = 1
      expression = "m1"
      metrics    = { m1 = { metric = "maria_egress_rate_limited_total", stat = "Sum", dimensions = {} } }
    }
    MariaSlackErrors = {
      # per second, like Prometheus' rate()
      severity = "warning", threshold = 0.05, comparison = "GreaterThanThreshold", period = 600, datapoints = 1
      expression = "(FILL(m1, 0) + FILL(m2, 0) + FILL(m3, 0)) / PERIOD(m1)"
      metrics = {
        m1 = { metric = "maria_egress_slack_calls_total", stat = "Sum", dimensions = { outcome = "slack_error" } }
        m2 = { metric = "maria_egress_slack_calls_total", stat = "Sum", dimensions = { outcome = "server_error" } }
        m3 = { metric = "maria_egress_slack_calls_total", stat = "Sum", dimensions = { outcome = "network_error" } }
      }
    }
    MariaIngressRejecting = {
      severity = "critical", threshold = 0.02, comparison = "GreaterThanThreshold", period = 600, datapoints = 1
      expression = "(FILL(m1, 0) + FILL(m2, 0) + FILL(m3, 0)) / PERIOD(m1)"
      metrics = {
        m1 = { metric = "maria_ingress_requests_total", stat = "Sum", dimensions = { outcome = "bad_signature" } }
        m2 = { metric = "maria_ingress_requests_total", stat = "Sum", dimensions = { outcome = "stale_timestamp" } }
        m3 = { metric = "maria_ingress_requests_total", stat = "Sum", dimensions = { outcome = "unavailable" } }
      }
    }
    MariaIngressSlowAck = {
      severity = "warning", threshold = 2, comparison = "GreaterThanThreshold", period = 600, datapoints = 1
      expression = "m1"
      metrics    = { m1 = { metric = "maria_ingress_request_seconds", stat = "p99", dimensions = {} } }
    }
    MariaOdooBreakerOpen = {
      # the gauge is 2 when open: >= 2 is Prometheus' == 2
      severity = "critical", threshold = 2, comparison = "GreaterThanOrEqualToThreshold", period = 60, datapoints = 2
      expression = "m1"
      metrics    = { m1 = { metric = "maria_erp_breaker_state", stat = "Maximum", dimensions = {} } }
    }
    MariaOdooErrors = {
      severity = "warning", threshold = 0.05, comparison = "GreaterThanThreshold", period = 600, datapoints = 1
      expression = "(FILL(m1, 0) + FILL(m2, 0) + FILL(m3, 0) + FILL(m4, 0)) / PERIOD(m1)"
      metrics = {
        m1 = { metric = "maria_erp_odoo_calls_total", stat = "Sum", dimensions = { outcome = "unavailable" } }
        m2 = { metric = "maria_erp_odoo_calls_total", stat = "Sum", dimensions = { outcome = "access_denied" } }
        m3 = { metric = "maria_erp_odoo_calls_total", stat = "Sum", dimensions = { outcome = "server" } }
        m4 = { metric = "maria_erp_odoo_calls_total", stat = "Sum", dimensions = { outcome = "protocol" } }
      }
    }
    MariaOpenAIQuotaExhausted = {
      severity = "critical", threshold = 0, comparison = "GreaterThanThreshold", period = 300, datapoints = 1
      expression = "m1"
      metrics    = { m1 = { metric = "maria_ai_requests_total", stat = "Sum", dimensions = { outcome = "quota" } } }
    }
    MariaOpenAIErrors = {
      # more than 20% failing, when more than 0.01/s (6 per 10 minutes) are made
      severity = "warning", threshold = 0.2, comparison = "GreaterThanThreshold", period = 600, datapoints = 1
      expression = "IF(m1 > 6, (m1 - FILL(m2, 0)) / m1, 0)"
      metrics = {
        m1 = { metric = "maria_ai_requests_total", stat = "Sum", dimensions = {} }
        m2 = { metric = "maria_ai_requests_total", stat = "Sum", dimensions = { outcome = "ok" } }
      }
    }
    MariaFailedAnswers = {
      severity = "warning", threshold = 5, comparison = "GreaterThanThreshold", period = 900, datapoints = 1
      expression = "m1"
      metrics    = { m1 = { metric = "maria_ai_failed_answers_total", stat = "Sum", dimensions = {} } }
    }
    MariaStorageFailures = {
      severity = "warning", threshold = 0, comparison = "GreaterThanThreshold", period = 300, datapoints = 1
      expression = "m1"
      metrics    = { m1 = { metric = "maria_storage_files_total", stat = "Sum", dimensions = { outcome = "failed" } } }
    }
    MariaDown = {
      # the collector's scrape status of every pod; the minimum is 0 when any is down
      severity = "critical", threshold = 0, comparison = "LessThanOrEqualToThreshold", period = 60, datapoints = 2
      expression = "m1"
      metrics    = { m1 = { metric = "up", stat = "Minimum", dimensions = {} } }
    }
    MariaNotReady = {
      # Container Insights (the add-on in cloudwatch.tf): 0 when a pod of the namespace is not ready
      severity = "critical", threshold = 0, comparison = "LessThanOrEqualToThreshold", period = 60, datapoints = 5
      expression = "m1"
      metrics = { m1 = { metric = "pod_status_ready", stat = "Minimum", namespace = "ContainerInsights",
      dimensions = { ClusterName = "CLUSTER", Namespace = "NAMESPACE" } } }
    }
  }
}

resource "aws_cloudwatch_metric_alarm" "maria" {
  for_each            = local.alarms
  alarm_name          = "${local.name}-${each.key}"
  alarm_description   = "${each.key} (${each.value.severity}): see infra/runbooks/observability.md#${lower(each.key)}"
  comparison_operator = each.value.comparison
  threshold           = each.value.threshold
  evaluation_periods  = each.value.datapoints
  datapoints_to_alarm = each.value.datapoints
  # No data is no alarm: a quiet pipeline publishes no counter deltas.
  treat_missing_data = "notBreaching"
  alarm_actions      = [aws_sns_topic.alarms.arn]
  ok_actions         = [aws_sns_topic.alarms.arn]
  tags               = { severity = each.value.severity }

  metric_query {
    id          = "e1"
    expression  = each.value.expression
    label       = each.key
    return_data = true
  }

  dynamic "metric_query" {
    for_each = each.value.metrics
    content {
      id = metric_query.key
      metric {
        metric_name = metric_query.value.metric
        namespace   = lookup(metric_query.value, "namespace", local.cw_namespace)
        period      = each.value.period
        stat        = metric_query.value.stat
        # CLUSTER and NAMESPACE stand for this deployment's (locals cannot
        # reference variables and still be compared by the tests as literals).
        dimensions = { for k, v in metric_query.value.dimensions : k => replace(replace(v, "CLUSTER", var.eks_cluster_name), "NAMESPACE", var.kubernetes_namespace) }
      }
    }
  }
}
