output "arn" {
  description = "ARN of the load balancer."
  value       = aws_lb.this.arn
}

output "arn_suffix" {
  description = "ARN suffix of the load balancer (app/<name>/<id>), for CloudWatch dimensions."
  value       = aws_lb.this.arn_suffix
}

output "dns_name" {
  description = "DNS name of the load balancer."
  value       = aws_lb.this.dns_name
}

output "zone_id" {
  description = "Route 53 hosted zone of the load balancer, for alias records."
  value       = aws_lb.this.zone_id
}

output "security_group_id" {
  description = "Security group of the load balancer: allow it on the targets' port."
  value       = aws_security_group.this.id
}

output "target_group_arn" {
  description = "ARN of the target group (give it to the asg module's target_group_arns)."
  value       = aws_lb_target_group.this.arn
}

output "target_group_name" {
  description = "Name of the target group."
  value       = aws_lb_target_group.this.name
}

output "resource_label" {
  description = "app/<alb>/<id>/targetgroup/<tg>/<id>: the asg module's scaling.alb_resource_label for scaling on requests per target."
  value       = "${aws_lb.this.arn_suffix}/${aws_lb_target_group.this.arn_suffix}"
}

output "http_listener_arn" {
  description = "ARN of the port 80 listener (a redirect to HTTPS, or forwarding with allow_plain_http)."
  value       = one(aws_lb_listener.http[*].arn)
}

output "https_listener_arn" {
  description = "ARN of the HTTPS listener; null without a certificate."
  value       = one(aws_lb_listener.https[*].arn)
}

output "url" {
  description = "Base URL of the load balancer: https:// with a certificate, http:// otherwise."
  value       = "${local.https ? "https" : "http"}://${aws_lb.this.dns_name}"
}
