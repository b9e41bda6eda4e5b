"""Everything that changes a repo: promotion (plan -> apply -> verify -> commit), round-trip
edits, the few Git operations, and pull/merge requests on GitHub and GitLab."""
