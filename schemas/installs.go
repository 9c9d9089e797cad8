package schemas

// InstallsBucket is the NATS KV bucket of Slack installations (package
// bus/installs): ingress writes it at install and uninstall, egress and
// storage read each workspace's bot token from it and store rotated ones.
// Named here because the NATS permissions of those services grant it.
const InstallsBucket = "maria_installs"
