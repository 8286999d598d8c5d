# The platform in three regions: the stamp command applies region/ once per region (the home
# first) and edge/ over them. Folders are relative to this file.
home          = "us-east-1"
regions       = ["us-east-1", "eu-west-1", "ap-southeast-1"]
region_config = "region"
edge_config   = "edge"

# Variables of every state. Terraform reads paths from the configuration's folder (region/).
vars = {
  name_prefix         = "acme-media"
  upload_api_zip_path = "../../../build/upload-api.zip"
  transcoder_zip_path = "../../../build/transcoder.zip"
  zone_name           = "media.example.com"
  allowed_countries   = []
}

# Variables of one region's state: ranges that do not overlap, since the regions are peered.
region_vars = {
  "us-east-1"      = { cidr_block = "10.0.0.0/16" }
  "eu-west-1"      = { cidr_block = "10.1.0.0/16" }
  "ap-southeast-1" = { cidr_block = "10.2.0.0/16" }
}
