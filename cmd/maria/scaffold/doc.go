// Package scaffold generates a new processor (`maria new processor NAME`):
// its package and test, its registration, its least-privilege NATS user in
// the three places that list users, and its compose, k8s and Terraform
// entries — so the repository builds and its tests pass right after.
// Shared files are edited at marker comments ("maria new processor: …"),
// never by pattern-matching their content.
package scaffold
