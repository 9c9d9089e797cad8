# The CloudWatch counterpart of infra/grafana/maria-dashboard.json: the
# pipeline's throughput, lag and failures, and each upstream's health.
locals {
  dashboard_widgets = [
    { title = "Messages handled (per processor, outcome)", stat = "Sum", metrics = [["maria_processor_messages_total", "outcome", "ok"], ["maria_processor_messages_total", "outcome", "nak"], ["maria_processor_messages_total", "outcome", "dead_letter"]] },
    { title = "Consumer lag (max pending)", stat = "Maximum", metrics = [["maria_consumer_pending"]] },
    { title = "Dead letters", stat = "Sum", metrics = [["maria_dead_letters_total"]] },
    { title = "Handler latency p95 (s)", stat = "p95", metrics = [["maria_processor_handler_seconds"]] },
    { title = "Ingress answers p99 (s)", stat = "p99", metrics = [["maria_ingress_request_seconds"]] },
    { title = "Ingress refusals", stat = "Sum", metrics = [["maria_ingress_requests_total", "outcome", "bad_signature"], ["maria_ingress_requests_total", "outcome", "stale_timestamp"], ["maria_ingress_requests_total", "outcome", "unavailable"]] },
    { title = "Slack: 429s and errors", stat = "Sum", metrics = [["maria_egress_rate_limited_total"], ["maria_egress_slack_calls_total", "outcome", "slack_error"], ["maria_egress_slack_calls_total", "outcome", "server_error"]] },
    { title = "OpenAI requests (ok, quota)", stat = "Sum", metrics = [["maria_ai_requests_total", "outcome", "ok"], ["maria_ai_requests_total", "outcome", "quota"]] },
    { title = "Odoo breaker (2 = open)", stat = "Maximum", metrics = [["maria_erp_breaker_state"]] },
    { title = "Files stored / failed", stat = "Sum", metrics = [["maria_storage_files_total", "outcome", "stored"], ["maria_storage_files_total", "outcome", "failed"]] },
  ]
}

resource "aws_cloudwatch_dashboard" "maria" {
  dashboard_name = local.name
  dashboard_body = jsonencode({
    widgets = concat(
      [for i, w in local.dashboard_widgets : {
        type   = "metric"
        x      = (i % 2) * 12
        y      = floor(i / 2) * 6
        width  = 12
        height = 6
        properties = {
          title   = w.title
          region  = var.region
          stat    = w.stat
          period  = 60
          view    = "timeSeries"
          metrics = [for m in w.metrics : concat([local.cw_namespace], m)]
        }
      }],
      [{
        type   = "alarm"
        x      = 0
        y      = ceil(length(local.dashboard_widgets) / 2) * 6
        width  = 24
        height = 4
        properties = {
          title  = "Alarms (infra/prometheus/alerts.yaml mirrored)"
          alarms = [for a in aws_cloudwatch_metric_alarm.maria : a.arn]
        }
      }],
    )
  })
}
