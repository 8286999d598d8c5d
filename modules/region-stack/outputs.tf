output "region" {
  description = "AWS region of the stack."
  value       = local.region
}

output "api_url" {
  description = "Base URL of the upload API at its load balancer (https:// with a certificate, else http://)."
  value       = module.alb.url
}

output "alb_dns_name" {
  description = "DNS name of the API's load balancer, for the latency records."
  value       = module.alb.dns_name
}

output "alb_zone_id" {
  description = "Canonical hosted zone of the API's load balancer, for alias records."
  value       = module.alb.zone_id
}

output "originals_bucket_id" {
  description = "Name of the bucket that receives uploads."
  value       = module.media_buckets.originals_bucket_id
}

output "derivatives_bucket_id" {
  description = "Name of the bucket that holds renditions, HLS and posters: the CDN's origin."
  value       = module.media_buckets.derivatives_bucket_id
}

output "derivatives_bucket_regional_domain_name" {
  description = "Regional domain name of the derivatives bucket, for the CDN's origin."
  value       = module.media_buckets.derivatives_bucket_regional_domain_name
}

output "transcode_queue_url" {
  description = "URL of the transcode queue."
  value       = module.transcode_queue.queue_url
}

output "transcode_dlq_url" {
  description = "URL of the transcode queue's dead-letter queue."
  value       = module.transcode_queue.dlq_url
}

output "media_events_topic_arn" {
  description = "ARN of the topic announcing ready and failed media."
  value       = module.media_events.topic_arn
}

output "media_events_kms_key_arn" {
  description = "KMS key of the media events topic; an encrypted SQS subscriber's key policy must let SNS use its own key, this one is for publishers."
  value       = module.media_events.kms_key_arn
}

output "transcoder_function_name" {
  description = "Name of the transcode function."
  value       = module.transcoder.function_name
}

output "transcode_workers_asg_name" {
  description = "Name of the spot worker fleet's Auto Scaling group; null without worker_fleet."
  value       = var.worker_fleet == null ? null : module.transcode_workers[0].name
}

output "worker_queue_url" {
  description = "URL of the worker fleet's job queue; null without worker_fleet."
  value       = var.worker_fleet == null ? null : module.worker_queue[0].queue_url
}

output "upload_api_asg_name" {
  description = "Name of the upload API's Auto Scaling group."
  value       = module.upload_api.name
}

output "database_endpoint" {
  description = "host:port of this region's metadata database: the primary in the home region, a read replica of it elsewhere."
  value       = module.database.endpoint
}

output "database_instance_arn" {
  description = "ARN of this region's DB instance; in the home region, what the other regions' home.database.instance_arn names."
  value       = module.database.instance_arn
}

output "database_address" {
  description = "Host name of this region's DB instance (the primary's, in the home region: the other regions' home.database.address)."
  value       = module.database.address
}

output "vpc_id" {
  description = "The region's VPC, for the peering (the peering module's vpc_id, or home.vpc_id from another region)."
  value       = module.network.vpc_id
}

output "vpc_cidr_block" {
  description = "The region's VPC range, for the peering and the other regions' home.database.cidr_block."
  value       = module.network.vpc_cidr_block
}

output "private_route_table_ids" {
  description = "The private subnets' route tables, which the peering gives a route to the other side."
  value       = module.network.private_route_table_ids
}

output "database_security_group_id" {
  description = "The database's security group; in the home region, where each peered region's peering admits that region."
  value       = module.database.security_group_id
}

output "database_port" {
  description = "Port of this region's DB instance."
  value       = module.database.port
}

output "database_secret_arn" {
  description = "ARN of the RDS-managed secret holding the database credentials (the home region's primary's, in every region)."
  value       = local.db_secret_arn
}

output "user_pool_id" {
  description = "Id of the Cognito user pool the API trusts (the home region's, in every region)."
  value       = local.identity.user_pool_id
}

output "user_pool_client_id" {
  description = "Id of the app client whose tokens the API accepts."
  value       = local.identity.client_id
}

output "issuer_url" {
  description = "Issuer of the tokens the API accepts."
  value       = local.identity.issuer_url
}

output "home" {
  description = "In the home region: what every other region's home input takes (its user pool and the catalogue's primary), as one object."
  value = {
    identity = local.identity
    database = {
      instance_arn = module.database.instance_arn
      address      = module.database.address
      port         = module.database.port
      secret_arn   = local.db_secret_arn
      cidr_block   = module.network.vpc_cidr_block
    }
  }
}

output "peering_home" {
  description = "In the home region: what the peering module's home input takes, for each region that joins this one."
  value = {
    region                     = local.region
    vpc_id                     = module.network.vpc_id
    cidr_block                 = module.network.vpc_cidr_block
    route_table_ids            = module.network.private_route_table_ids
    database_security_group_id = module.database.security_group_id
    database_port              = module.database.port
  }
}
