//! Deployment contract tests live in `tests/`: they read `template.yaml` and check the
//! promises the README makes about what a `sam deploy` creates.
